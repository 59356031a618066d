import { describe, expect, it } from 'vitest';
import { StreamSocket } from './stream-socket';

describe('StreamSocket.receive', () => {
  it('fills state from the snapshot, then follows live events', () => {
    const socket = new StreamSocket();
    const state = { type: 'stream.state', v: 1, stream_id: 's', status: 'offline', live_since: null } as const;

    socket.receive({ type: 'snapshot', v: 1, stream: state, frames: [
      { type: 'analysis.frame', v: 1, stream_id: 's', segment_seq: 0, pts: 0, pdt: '2026-11-24T12:00:00Z', detections: [] },
    ] });
    socket.receive({ ...state, status: 'live', live_since: '2026-11-24T12:00:00Z' });

    expect(socket.timeline.size).toBe(1);
    expect(socket.state()?.status).toBe('live');
  });
});
