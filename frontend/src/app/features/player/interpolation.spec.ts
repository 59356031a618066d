import { describe, expect, it } from 'vitest';
import type { AnalysisFrame, Detection } from '../../core/protocol';
import { interpolated } from './interpolation';

function detection(label: string, x: number, kind = 'logo'): Detection {
  return { analyzer: 'logos', kind, label, confidence: 0.9, box: { x, y: 0.1, w: 0.1, h: 0.1 }, extra: {} };
}

function frame(pdt: string, ...detections: Detection[]): AnalysisFrame {
  return { type: 'analysis.frame', v: 1, stream_id: 's', segment_seq: 0, pts: 0, pdt, detections };
}

describe('interpolated', () => {
  const before = frame('2026-11-24T12:00:00.000Z', detection('Acme', 0.2), detection('Other', 0.6));
  const after = frame('2026-11-24T12:00:00.500Z', detection('Acme', 0.3), detection('Other', 0.9, 'object'));

  it('moves a box part of the way to where the same thing is next', () => {
    const [acme, other] = interpolated(before, after, 0.5).detections;

    expect(acme.box.x).toBeCloseTo(0.25);
    expect(other.box.x).toBe(0.6); // no logo "Other" next: it stays
  });

  it('leaves the frame as it is at its own instant, and stops at the next one', () => {
    expect(interpolated(before, after, 0)).toBe(before);
    expect(interpolated(before, after, 3).detections[0].box.x).toBeCloseTo(0.3);
  });

  it('does not pair an instance with a far-away one of the same label', () => {
    const far = frame('2026-11-24T12:00:00.500Z', detection('Acme', 0.8));

    expect(interpolated(before, far, 0.5).detections[0].box.x).toBe(0.2);
  });
});
