import { describe, expect, it } from 'vitest';
import { localInputValue, momentAt } from './moment';

describe('the moment picked on the timeline', () => {
  const since = new Date('2026-11-24T12:00:00Z');
  const until = new Date('2026-11-24T12:00:10Z');

  it('is the wall clock under the click, along the track', () => {
    expect(momentAt(150, 100, 200, since, until).toISOString()).toBe('2026-11-24T12:00:02.500Z');
  });

  it('is clamped to the range outside the track, and the start on a track of no width', () => {
    expect(momentAt(50, 100, 200, since, until)).toEqual(since);
    expect(momentAt(500, 100, 200, since, until)).toEqual(until);
    expect(momentAt(150, 100, 0, since, until)).toEqual(since);
  });

  it('fills a datetime-local input to the second, in local time', () => {
    const at = new Date(2026, 10, 4, 9, 5, 7, 600);
    expect(localInputValue(at)).toBe('2026-11-04T09:05:07');
    expect(new Date(localInputValue(at)).getTime()).toBe(at.getTime() - 600);
  });
});
