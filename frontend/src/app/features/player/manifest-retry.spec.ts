import Hls, { type LoaderResponse } from 'hls.js';
import { describe, expect, it } from 'vitest';
import { untilPublished } from './manifest-retry';

let waits = 0;
const policy = untilPublished(Hls.DefaultConfig.manifestLoadPolicy.default, () => waits++).errorRetry!;
const response = (code: number): LoaderResponse => ({ url: '/live.m3u8', data: undefined, code });
/** What hls.js decides for a failed manifest load (its shouldRetry, with its own verdict). */
const retried = (code: number, count: number) =>
  policy.shouldRetry!(policy, count, false, response(code), count < policy.maxNumRetry && code >= 500);

describe('untilPublished', () => {
  it('keeps asking while the playlist is a 404, however long the stream takes to start', () => {
    waits = 0;
    expect(retried(404, 0)).toBe(true);
    expect(retried(404, 500)).toBe(true);
    expect(waits).toBe(2); // the page says "Not published yet"
  });

  it("leaves other errors to hls.js's own number of retries", () => {
    waits = 0;
    expect(retried(503, 0)).toBe(true);
    expect(retried(503, 1)).toBe(false);
    expect(retried(403, 0)).toBe(false);
    expect(waits).toBe(0);
  });
});
