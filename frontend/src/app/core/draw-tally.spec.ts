import { describe, expect, it } from 'vitest';
import { DrawTally, OWN_FRAME_MS } from './draw-tally';

describe('DrawTally', () => {
  it('reports a result drawn on its own frame once, with the time from its arrival', () => {
    const tally = new DrawTally();
    tally.shown(900, null, 0);
    tally.arrived(1000, 100);

    tally.shown(966, null, 500); // its frame has not played yet
    tally.shown(1000, 1000, 1300);
    tally.shown(1033, 1000, 1333); // the same result, still on screen

    expect(tally.take()).toEqual([{ after_s: 1.2, own_frame: true }]);
    expect(tally.take()).toEqual([]);
  });

  it('reports a result that arrives after its frame played as never drawn on it', () => {
    const tally = new DrawTally();
    tally.shown(2000, null, 0);

    tally.arrived(1000, 10);
    tally.shown(2033, 1000, 40); // still drawn, on a later frame: not reported twice

    expect(tally.take()).toEqual([{ after_s: null, own_frame: false }]);
  });

  it('reports a result first drawn on a later frame as not on its own', () => {
    const tally = new DrawTally();
    tally.arrived(1000, 0);

    tally.shown(1000 + OWN_FRAME_MS + 16, 1000, 250);

    expect(tally.take()).toEqual([{ after_s: 0.25, own_frame: false }]);
  });

  it('keeps only the newest reports when none are taken', () => {
    const tally = new DrawTally();
    for (let pdt = 0; pdt < 60_000; pdt += 500) {
      tally.arrived(pdt, pdt);
      tally.shown(pdt, pdt, pdt + 100);
    }

    const reports = tally.take();
    expect(reports.length).toBe(50);
    expect(reports.every((report) => report.own_frame && report.after_s === 0.1)).toBe(true);
  });
});
