// The API docs in Debian Chromium: Swagger UI (/api/docs/) and Redoc (/api/redoc/) render
// the schema's operations from the project's own static files, with no network beyond it.
// Prints one JSON line: how many operations each page shows, and every request that left
// the server (with its failure, if any).
//
// usage: node e2e/api-docs.mjs <base-url>
import { chromium } from 'playwright-core';

const [base] = process.argv.slice(2);
const TIMEOUT_MS = 30000;

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
  ],
});
const result = { swagger_operations: 0, redoc_operations: 0, external_requests: [], errors: [] };
try {
  const page = await browser.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !/^(data|blob):/.test(url)) result.external_requests.push(url);
  });
  page.on('pageerror', (error) => result.errors.push(error.message));

  await page.goto(`${base}/api/docs/`);
  // Waits on the DOM (a MutationObserver inside Playwright), bounded by the timeout.
  await page
    .waitForFunction(() => document.querySelectorAll('.opblock').length > 10, null, { timeout: TIMEOUT_MS })
    .catch((error) => result.errors.push(`swagger: ${error.message.split('\n')[0]}`));
  result.swagger_operations = await page.locator('.opblock').count();

  await page.goto(`${base}/api/redoc/`);
  await page
    .waitForFunction(() => document.querySelectorAll('[data-section-id^="operation/"]').length > 10, null, {
      timeout: TIMEOUT_MS,
    })
    .catch((error) => result.errors.push(`redoc: ${error.message.split('\n')[0]}`));
  result.redoc_operations = await page.locator('[data-section-id^="operation/"]').count();
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
