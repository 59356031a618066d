// End to end in Debian Chromium: sign in, open a live stream, and check that the overlay's
// box sits on the moving subject in the frame on screen.
//
// usage: node e2e/overlay-sync.mjs <base-url> <user> <password> <stream-id> <artifacts-dir> <subject.json>
// subject.json: {"kind": "face" | "logo", "box": [x, y, w, h]}: what the overlay should box
// inside the subject image, as fractions of it; with "brand" and "alert", the stream page's
// live exposure panel and the exposure report are checked for them too.
// The subject image is the only bright thing on a dark, uniform background, so its
// true position in each displayed frame is found from the frame's own pixels.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const [base, user, password, streamId, artifacts, subjectFile] = process.argv.slice(2);
const subject = JSON.parse(readFileSync(subjectFile, 'utf8'));
const SAMPLE_MS = 15000;
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
const errors = [];
// The page asks for the playlist until the stream's first publish: 404s then, and only then.
let notPublished404s = 0;
let playing = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const waiting = message.text().includes('404') && message.location().url.endsWith('/hls/live.m3u8');
    if (waiting && !playing) notPublished404s++;
    else errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL('**/streams');
  await page.screenshot({ path: `${artifacts}/streams.png` });
  await page.goto(`${base}/streams/${streamId}`);
  // A user opens the page, then starts OBS: the page says it waits for the stream, and the
  // test publishes only once this line is out.
  await page.getByText('Not published yet').waitFor({ timeout: 30000 });
  console.log(JSON.stringify({ page: 'open' }));
  try {
    await page.waitForFunction(() => (window.mediaAnalyzerOverlay?.drawn.length ?? 0) > 0, null, { timeout: 60000 });
    playing = true;
  } catch (error) {
    await page.screenshot({ path: `${artifacts}/no-boxes.png` });
    console.error('no box drawn; the page showed:', JSON.stringify(await playerState(page)));
    throw error;
  }

  const samples = await page.evaluate(
    async ({ sampleMs, kind }) => {
      const video = document.querySelector('video');
      const grab = document.createElement('canvas');
      const context = grab.getContext('2d', { willReadFrequently: true });
      const out = [];
      const started = performance.now();
      return await new Promise((resolve) => {
        const onFrame = (_now, metadata) => {
          // Runs after the app's own callback for this frame has drawn the overlay.
          setTimeout(() => {
            const probe = window.mediaAnalyzerOverlay;
            grab.width = metadata.width / 2;
            grab.height = metadata.height / 2;
            context.drawImage(video, 0, 0, grab.width, grab.height);
            const { data, width, height } = context.getImageData(0, 0, grab.width, grab.height);
            let [x0, y0, x1, y1] = [width, height, -1, -1];
            for (let y = 0; y < height; y++) {
              for (let x = 0; x < width; x++) {
                const i = (y * width + x) * 4;
                if (Math.abs(data[i] - 0x20) + Math.abs(data[i + 1] - 0x30) + Math.abs(data[i + 2] - 0x40) > 60) {
                  x0 = Math.min(x0, x);
                  y0 = Math.min(y0, y);
                  x1 = Math.max(x1, x);
                  y1 = Math.max(y1, y);
                }
              }
            }
            out.push({
              framePdtMs: probe.framePdtMs,
              resultPdt: probe.resultPdt,
              drawn: probe.drawn.filter((d) => d.kind === kind).map((d) => d.box),
              content: probe.content,
              subject:
                x1 < 0 ? null : { x: x0 / width, y: y0 / height, w: (x1 + 1 - x0) / width, h: (y1 + 1 - y0) / height },
              wallMs: Date.now(),
            });
            if (performance.now() - started < sampleMs) video.requestVideoFrameCallback(onFrame);
            else resolve(out);
          }, 0);
        };
        video.requestVideoFrameCallback(onFrame);
      });
    },
    { sampleMs: SAMPLE_MS, kind: subject.kind },
  );
  await page.screenshot({ path: `${artifacts}/player.png` });
  writeFileSync(`${artifacts}/samples.json`, JSON.stringify(samples));
  // The page's own report of its drawings, as the server's stats panel shows it back.
  const panelDrawnOnFrame = await page
    .getByTestId('drawn-on-frame')
    .textContent({ timeout: 20000 })
    .then((text) => Number.parseInt(text ?? '', 10) / 100)
    .catch(() => null);
  const exposure = subject.brand ? await exposureShown(page) : null;

  // Where the face truly is in each displayed frame, in screen pixels of the player.
  const [fx, fy, fw, fh] = subject.box;
  const errorsPx = [];
  const betweenPx = []; // frames between two analysed ones: the box is interpolated
  const firstDrawn = new Map(); // result pdt -> the first displayed frame that drew it
  for (const sample of samples) {
    if (sample.resultPdt && !firstDrawn.has(sample.resultPdt)) firstDrawn.set(sample.resultPdt, sample.framePdtMs);
    if (!sample.subject || !sample.resultPdt || sample.drawn.length !== 1) continue;
    const age = sample.framePdtMs - Date.parse(sample.resultPdt);
    const s = sample.subject;
    const truth = { x: s.x + fx * s.w, y: s.y + fy * s.h, w: fw * s.w, h: fh * s.h };
    const box = sample.drawn[0];
    const c = sample.content;
    const px = (a, b, scale) => Math.abs(a - b) * scale;
    const error = Math.max(
      px(box.x, truth.x, c.width),
      px(box.y, truth.y, c.height),
      px(box.x + box.w, truth.x + truth.w, c.width),
      px(box.y + box.h, truth.y + truth.h, c.height),
    );
    // Frames whose own result is drawn (within half a frame) measure sync; the others, smoothing.
    (Math.abs(age) <= 17 ? errorsPx : betweenPx).push(error);
  }
  firstDrawn.delete(samples[0]?.resultPdt); // already on screen when sampling began
  // Every result of the sampled span (from the REST API), and whether its boxes were first
  // drawn on its own frame (within half a frame): one never drawn, or drawn late, is a miss.
  const spanMs = [samples[0]?.framePdtMs + 1000, samples.at(-1)?.framePdtMs - 1000];
  const results = await page.evaluate(
    async ({ id, since, until }) => {
      const query = new URLSearchParams({ since, until, limit: '1000' });
      return (await (await fetch(`/api/streams/${id}/frames/?${query}`)).json()).results.map((r) => r.pdt);
    },
    { id: streamId, since: new Date(spanMs[0]).toISOString(), until: new Date(spanMs[1]).toISOString() },
  );
  const drawnAt = new Map([...firstDrawn].map(([pdt, frame]) => [Date.parse(pdt), frame]));
  const onOwnFrame = results
    .map(Date.parse)
    .filter((pdt) => drawnAt.has(pdt) && Math.abs(drawnAt.get(pdt) - pdt) <= 17);
  const median = (values) => (values.length ? [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] : null);
  const frameMs = 1000 / 30;
  const latencies = samples.map((s) => (s.wallMs - s.framePdtMs) / 1000);
  console.log(
    JSON.stringify({
      frames: samples.length,
      matched_frames: errorsPx.length,
      box_error_px_median: median(errorsPx),
      box_error_px_max: errorsPx.length ? Math.max(...errorsPx) : null,
      box_error_px_between_results_median: median(betweenPx),
      // A result first appears on the frame it was computed from: 0 when in step.
      overlay_sync_error_frames_median: median(
        [...firstDrawn].map(([pdt, frame]) => Math.abs(frame - Date.parse(pdt)) / frameMs),
      ),
      glass_to_glass_latency_s_median: median(latencies),
      results_in_span: results.length,
      drawn_on_own_frame_share: results.length ? onOwnFrame.length / results.length : null,
      panel_drawn_on_frame: panelDrawnOnFrame,
      exposure_panel: exposure?.panel ?? null,
      report: exposure?.report ?? null,
      console_errors: errors,
      playlist_404s_before_publish: notPublished404s,
    }),
  );
} finally {
  await browser.close();
}

/** What the player knows, for a failure's message. */
async function playerState(page) {
  return page.evaluate(() => {
    const video = document.querySelector('video');
    return {
      badge: document.querySelector('.badge')?.textContent?.trim(),
      player_messages: [...document.querySelectorAll('app-stream-player p')].map((p) => p.textContent?.trim()),
      video: video && { readyState: video.readyState, currentTime: video.currentTime, paused: video.paused },
      overlay: window.mediaAnalyzerOverlay ?? null,
    };
  });
}

/** The brand's live totals and its alert on the stream page, then its report page. */
async function exposureShown(page) {
  const panel = page.locator('app-exposure-panel');
  await panel.locator('td', { hasText: subject.brand }).first().waitFor({ timeout: 30000 });
  await panel.locator('.alerts li', { hasText: subject.alert }).first().waitFor({ timeout: 30000 });
  await page.screenshot({ path: `${artifacts}/exposure-panel.png` });
  await page.goto(`${base}/streams/${streamId}/exposure`);
  await page.locator('.bars li', { hasText: subject.brand }).first().waitFor({ timeout: 30000 });
  await page.locator('tbody tr img').first().waitFor({ timeout: 30000 });
  await page.screenshot({ path: `${artifacts}/exposure-report.png`, fullPage: true });
  return {
    panel: { brand_shown: true, alert_shown: true },
    report: { bars: await page.locator('.bars li').count(), appearances: await page.locator('tbody tr').count() },
  };
}
