// End to end in Debian Chromium: the stream page's state badge follows the publisher.
// Opens the page of an offline stream, prints one JSON line per change of the badge's text
// ({"badge": "offline"} first), and exits once it has seen "offline", then "live", then
// "offline" again, or when the time is up (exit 1). The test drives the publisher between.
//
// usage: node e2e/stream-state.mjs <base-url> <user> <password> <stream-id>
import { chromium } from 'playwright-core';

const [base, user, password, streamId] = process.argv.slice(2);
const EXPECTED = ['offline', 'live', 'offline'];
const TIMEOUT_MS = 90000;

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
    console.log(
      JSON.stringify({
        badge: (await badge.textContent()).trim(),
        live: await badge.evaluate((b) => b.classList.contains('live')),
      }),
    );
    seen++;
  }
} catch (error) {
  console.error(`badge stuck after ${EXPECTED.slice(0, seen).join(' -> ') || 'nothing'}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
