import { describe, expect, it } from 'vitest';
import type { AnalysisFrame } from './protocol';
import { FrameTimeline } from './frame-timeline';

function frame(pdt: string, label = 'cup'): AnalysisFrame {
  return {
    type: 'analysis.frame',
    v: 1,
    stream_id: 's',
    segment_seq: 0,
    pts: 0,
    pdt,
    detections: [
      { analyzer: 'objects', kind: 'object', label, confidence: 0.9, box: { x: 0, y: 0, w: 0.5, h: 0.5 }, extra: {} },
    ],
  };
}
const at = (iso: string) => Date.parse(iso);

describe('FrameTimeline', () => {
  it('gives the newest result at or before the displayed instant', () => {
    const timeline = new FrameTimeline();
    timeline.add(frame('2026-11-24T12:00:01.000Z', 'second'));
    timeline.add(frame('2026-11-24T12:00:00.500Z', 'first')); // out of order: results race

    expect(timeline.at(at('2026-11-24T12:00:00.900Z'), 1000)?.frame.detections[0].label).toBe('first');
    expect(timeline.at(at('2026-11-24T12:00:01.000Z'), 1000)?.frame.detections[0].label).toBe('second');
    expect(timeline.at(at('2026-11-24T12:00:00.400Z'), 1000)).toBeNull();
  });

  it('draws nothing once the newest result is older than the allowed age', () => {
    const timeline = new FrameTimeline();
    timeline.add(frame('2026-11-24T12:00:00.000Z'));

    expect(timeline.at(at('2026-11-24T12:00:00.800Z'), 900)?.ageMs).toBe(800);
    expect(timeline.at(at('2026-11-24T12:00:01.000Z'), 900)).toBeNull();
  });

  it('replaces a re-analysed frame and stays bounded', () => {
    const timeline = new FrameTimeline();
    timeline.add(frame('2026-11-24T12:00:00.000Z', 'old'));
    timeline.add(frame('2026-11-24T12:00:00.000Z', 'new'));
    expect(timeline.size).toBe(1);
    expect(timeline.at(at('2026-11-24T12:00:00.000Z'), 10)?.frame.detections[0].label).toBe('new');

    for (let i = 0; i < 5000; i++) timeline.add(frame(new Date(at('2026-11-24T13:00:00Z') + i * 500).toISOString()));
    expect(timeline.size).toBe(3000);
  });

  it("keeps the other analyzers' results when a job reports only its own", () => {
    const timeline = new FrameTimeline();
    const pdt = '2026-11-24T12:00:00.000Z';
    timeline.add({ ...frame(pdt, 'cup'), analyzers: ['faces', 'objects'] });
    const visual = {
      analyzer: 'visual',
      kind: 'visual',
      label: 'frame',
      confidence: 1,
      box: { x: 0, y: 0, w: 1, h: 1 },
      extra: {},
    };
    const known = timeline.add({ ...frame(pdt), detections: [visual], analyzers: ['visual'] });

    expect(known.detections.map((d) => d.label).sort()).toEqual(['cup', 'frame']);
    expect(known.analyzers?.sort()).toEqual(['faces', 'objects', 'visual']);
    const rerun = timeline.add({ ...frame(pdt), detections: [], analyzers: ['objects'] });
    expect(rerun.detections.map((d) => d.label)).toEqual(['frame']); // objects found nothing this time
    expect(timeline.size).toBe(1);
  });
});
