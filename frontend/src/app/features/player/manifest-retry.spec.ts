import Hls, { type LoaderResponse } from 'hls.js';
import { describe, expect, it } from 'vitest';
import { untilPublished } from './manifest-retry';

const policy = untilPublished(Hls.DefaultConfig.manifestLoadPolicy.default).errorRetry!;
const response = (code: number): LoaderResponse => ({ url: '/live.m3u8', data: undefined, code });
/** What hls.js decides for a failed manifest load (its shouldRetry, with its own verdict). */
const retried = (code: number, count: number) =>
  policy.shouldRetry!(policy, count, false, response(code), count < policy.maxNumRetry && code >= 500);

describe('untilPublished', () => {
  it('keeps asking while the playlist is a 404, however long the stream takes to start', () => {
    expect(retried(404, 0)).toBe(true);
    expect(retried(404, 500)).toBe(true);
  });

  it("leaves other errors to hls.js's own number of retries", () => {
    expect(retried(503, 0)).toBe(true);
    expect(retried(503, 1)).toBe(false);
    expect(retried(403, 0)).toBe(false);
  });
});
