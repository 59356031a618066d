// End to end in Debian Chromium: the stream page follows the publisher across two sessions,
// as a page left open while OBS stops and starts again. Opens the page of an offline stream
// and prints one JSON line per change of the badge's text ({"badge": "offline"} first); after
// each "live", one more line, {"playing": <the frame's wall clock, ms>}, once the player shows a frame
// of that session (its wall clock at most 2 s before the badge turned live), and after the second "offline", {"ended": true}
// once the video has played to the end of that session. Exits after "offline", "live",
// "offline", "live", or when the time is up (exit 1). The test drives the publishers between.
//
// usage: node e2e/stream-state.mjs <base-url> <user> <password> <stream-id>
import { chromium } from 'playwright-core';

const [base, user, password, streamId] = process.argv.slice(2);
const EXPECTED = ['offline', 'live', 'offline', 'live'];
const TIMEOUT_MS = 120000;
const SESSION_START_SLACK_MS = 2000;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
let seen = 0;
try {
  const page = await browser.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL('**/streams');
  await page.goto(`${base}/streams/${streamId}`);
  const badge = page.locator('.badge');
  const deadline = Date.now() + TIMEOUT_MS;
  while (seen < EXPECTED.length && Date.now() < deadline) {
    const wanted = EXPECTED[seen];
    // Waits on the DOM (a MutationObserver inside Playwright), not on a clock.
    await page.waitForFunction((text) => document.querySelector('.badge')?.textContent?.trim() === text, wanted, {
      timeout: Math.max(1, deadline - Date.now()),
    });
    const changedAt = Date.now();
    console.log(
      JSON.stringify({
        badge: (await badge.textContent()).trim(),
        live: await badge.evaluate((b) => b.classList.contains('live')),
      }),
    );
    seen++;
    if (wanted === 'offline' && seen > 1) {
      // The session played to its end on the page, as when OBS stops for a while.
      await page.waitForFunction(() => document.querySelector('video')?.ended === true, null, {
        timeout: Math.max(1, deadline - Date.now()),
      });
      console.log(JSON.stringify({ ended: true }));
    }
    if (wanted !== 'live') continue;
    // A frame of this session on screen: the player loaded it without a reload of the page.
    // The session's frames are stamped from when it started (the badge turned live about then);
    // the last one shown of the session before, seconds earlier, does not count.
    const sessionAfter = changedAt - SESSION_START_SLACK_MS;
    await page.waitForFunction((after) => (window.mediaAnalyzerOverlay?.framePdtMs ?? 0) > after, sessionAfter, {
      timeout: Math.max(1, deadline - Date.now()),
    });
    console.log(JSON.stringify({ playing: await page.evaluate(() => window.mediaAnalyzerOverlay.framePdtMs) }));
  }
} catch (error) {
  console.error(`page stuck after ${EXPECTED.slice(0, seen).join(' -> ') || 'nothing'}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
