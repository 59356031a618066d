import type { AnalysisFrame, Box, Detection } from '../../core/protocol';

/** The boxes of `before` moved a fraction `t` (0..1) of the way to where the same things
 * (same kind and label, nearest centre) are in `after`. Analysis samples a few frames a
 * second; between two samples a moving logo's box follows it instead of jumping. Things
 * seen in one frame only keep their box. */
export function interpolated(before: AnalysisFrame, after: AnalysisFrame, t: number): AnalysisFrame {
  if (t <= 0) return before;
  const clamped = Math.min(t, 1);
  const detections = before.detections.map((detection) => {
    const match = nearest(detection, after.detections);
    return match ? { ...detection, box: lerp(detection.box, match.box, clamped) } : detection;
  });
  return { ...before, detections };
}

function nearest(detection: Detection, candidates: Detection[]): Detection | null {
  let best: Detection | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.kind !== detection.kind || candidate.label !== detection.label) continue;
    const distance = Math.hypot(
      centre(candidate.box).x - centre(detection.box).x,
      centre(candidate.box).y - centre(detection.box).y,
    );
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  // Farther than a box's size away, it is another instance, not the same thing moved.
  return best && bestDistance <= Math.max(detection.box.w, detection.box.h, 0.05) * 1.5 ? best : null;
}

function centre(box: Box): { x: number; y: number } {
  return { x: box.x + box.w / 2, y: box.y + box.h / 2 };
}

function lerp(a: Box, b: Box, t: number): Box {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, w: a.w + (b.w - a.w) * t, h: a.h + (b.h - a.h) * t };
}
