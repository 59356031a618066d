import type { AnalysisFrame } from './protocol';

const CAPACITY = 3000; // about 25 minutes at 2 fps; the oldest go first

/** Analysis frames ordered by wall clock (pdt), for "the latest result at or before the
 * frame on screen". Results usually arrive before their frame is shown. */
export class FrameTimeline {
  private readonly frames: { at: number; frame: AnalysisFrame }[] = [];

  get size(): number {
    return this.frames.length;
  }

  /** Adds a frame's results and returns everything now known of that frame. */
  add(frame: AnalysisFrame): AnalysisFrame {
    const at = Date.parse(frame.pdt);
    const index = this.insertionPoint(at);
    const known = this.frames[index - 1];
    if (known?.at === at) {
      frame = merged(known.frame, frame);
      this.frames[index - 1] = { at, frame };
    } else {
      this.frames.splice(index, 0, { at, frame });
    }
    if (this.frames.length > CAPACITY) this.frames.splice(0, this.frames.length - CAPACITY);
    return frame;
  }

  /** The newest frame at or before `pdtMs`, if it is at most `maxAgeMs` older. */
  at(pdtMs: number, maxAgeMs: number): { frame: AnalysisFrame; ageMs: number } | null {
    const entry = this.frames[this.insertionPoint(pdtMs) - 1];
    if (!entry || pdtMs - entry.at > maxAgeMs) return null;
    return { frame: entry.frame, ageMs: pdtMs - entry.at };
  }

  /** The first frame after `pdtMs`, if it comes within `maxGapMs` of it: with the frame
   * before, it lets boxes move smoothly between two sampled frames. */
  after(pdtMs: number, maxGapMs: number): { frame: AnalysisFrame; inMs: number } | null {
    const entry = this.frames[this.insertionPoint(pdtMs)];
    if (!entry || entry.at - pdtMs > maxGapMs) return null;
    return { frame: entry.frame, inMs: entry.at - pdtMs };
  }

  /** First index whose time is after `at`. */
  private insertionPoint(at: number): number {
    let low = 0;
    let high = this.frames.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.frames[middle].at <= at) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** A later message for a known frame replaces the detections of the analyzers it reports
 * (all of them when it names none: a re-analysed frame) and keeps the others' (services
 * mode sends the visual job's results in a message of their own). */
function merged(known: AnalysisFrame, update: AnalysisFrame): AnalysisFrame {
  const reported = update.analyzers;
  if (!reported) return update;
  const kept = known.detections.filter((detection) => !reported.includes(detection.analyzer));
  const analyzers = known.analyzers && [...new Set([...known.analyzers, ...reported])];
  return { ...update, analyzers, detections: [...kept, ...update.detections] };
}
