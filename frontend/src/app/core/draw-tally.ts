import type { DrawnFrame } from './protocol';

/** A result drawn this near its own frame's wall clock was drawn on that frame (half a frame at 30 fps). */
export const OWN_FRAME_MS = 17;
/** Results waiting for their first drawing; the oldest are given up beyond this. */
const WAITING_KEPT = 200;
/** Reports waiting to be sent; a player that cannot send keeps only the newest. */
const REPORTS_KEPT = 50;

/** The trace's last stage as this player sees it: for each result, the time from its
 * arrival to its first drawing, and whether that was on the frame it was computed from.
 * Both are read on this page's clock, so no clock is shared with the server. */
export class DrawTally {
  private readonly waiting = new Map<number, number>(); // result pdt (ms) -> arrival (ms)
  private readonly reported = new Set<number>();
  private reports: DrawnFrame[] = [];
  private shownPdtMs: number | null = null;

  /** A live result arrived: one whose frame has already played can no longer be drawn on it. */
  arrived(resultPdtMs: number, nowMs: number): void {
    if (this.reported.has(resultPdtMs) || this.waiting.has(resultPdtMs)) return; // a later part of the same frame
    if (this.shownPdtMs !== null && this.shownPdtMs > resultPdtMs + OWN_FRAME_MS) {
      this.report(resultPdtMs, { after_s: null, own_frame: false });
      return;
    }
    this.waiting.set(resultPdtMs, nowMs);
    if (this.waiting.size > WAITING_KEPT) this.waiting.delete(this.waiting.keys().next().value as number);
  }

  /** The frame at `framePdtMs` is on screen, with the result of `resultPdtMs` drawn (or none). */
  shown(framePdtMs: number, resultPdtMs: number | null, nowMs: number): void {
    this.shownPdtMs = framePdtMs;
    if (resultPdtMs === null) return;
    const arrivedAt = this.waiting.get(resultPdtMs);
    if (arrivedAt === undefined) return; // drawn before, or not a live result
    this.waiting.delete(resultPdtMs);
    this.report(resultPdtMs, {
      after_s: Math.min(600, Math.max(0, (nowMs - arrivedAt) / 1000)),
      own_frame: Math.abs(framePdtMs - resultPdtMs) <= OWN_FRAME_MS,
    });
  }

  /** The reports since the last call, for `player.drawn`. */
  take(): DrawnFrame[] {
    const taken = this.reports;
    this.reports = [];
    return taken;
  }

  private report(resultPdtMs: number, frame: DrawnFrame): void {
    this.reported.add(resultPdtMs);
    if (this.reported.size > WAITING_KEPT) this.reported.delete(this.reported.values().next().value as number);
    this.reports = [...this.reports, frame].slice(-REPORTS_KEPT);
  }
}
