import type { LoaderConfig, RetryConfig } from 'hls.js';

/** Between two tries while the stream is not published yet: soon after OBS starts, never a flood. */
const NOT_PUBLISHED_RETRY_MS = 1000;
const NOT_PUBLISHED_RETRY_MAX_MS = 2000;

/** The stream's playlist before its first publish is a 404, and hls.js gives up on a 4xx at
 * once: a page opened before OBS starts would never play. This keeps asking for the playlist
 * while it is a 404 (every 1-2 s, as long as the page is open), calling `waiting` each time
 * (hls.js's loader retries on its own, with no error event), and leaves every other error to
 * hls.js's own retries (`base`, its default manifest policy). */
export function untilPublished(base: LoaderConfig, waiting: () => void = () => undefined): LoaderConfig {
  const retries = base.errorRetry?.maxNumRetry ?? 0;
  const errorRetry: RetryConfig = {
    maxNumRetry: Number.POSITIVE_INFINITY,
    retryDelayMs: NOT_PUBLISHED_RETRY_MS,
    maxRetryDelayMs: NOT_PUBLISHED_RETRY_MAX_MS,
    shouldRetry: (_config, count, _isTimeout, response, retry) => {
      if (response?.code !== 404) return retry && count < retries;
      waiting();
      return true;
    },
  };
  return { ...base, errorRetry };
}
