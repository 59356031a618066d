// The wire protocol's types, generated from docs/protocol/messages.schema.json
// (`npm run types`); a unit test fails when the generated file is stale.
export type {
  AlertFired,
  AnalysisFrame,
  AnalysisSegment,
  Box,
  BrandTotals,
  ClientMessage,
  Detection,
  DrawnFrame,
  PipelineStats,
  ServerMessage,
  Snapshot,
  StreamState,
} from './protocol.generated';
