import { describe, expect, it } from 'vitest';
import { fraction, percent, seconds } from './format';

describe('exposure formatting', () => {
  it('says durations in seconds, then minutes', () => {
    expect(seconds(4.25)).toBe('4.3 s');
    expect(seconds(125)).toBe('2 min 5 s');
  });

  it('shows small shares of screen with a decimal', () => {
    expect(percent(0.034)).toBe('3.4%');
    expect(percent(0.25)).toBe('25%');
  });

  it('places a moment along a range, clamped to it', () => {
    const since = new Date('2026-11-24T12:00:00Z');
    const until = new Date('2026-11-24T12:00:10Z');
    expect(fraction('2026-11-24T12:00:05Z', since, until)).toBe(0.5);
    expect(fraction('2026-11-24T11:59:00Z', since, until)).toBe(0);
    expect(fraction('2026-11-24T12:00:00Z', since, since)).toBe(0);
  });
});
