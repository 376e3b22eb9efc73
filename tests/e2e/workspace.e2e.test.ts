/**
 * The Workspace end to end in a real browser: the built renderer (out/renderer) served by
 * `studio serve` with the real engine and the test-only pipeline (tests/fixtures/serve-host.ts,
 * which writes real PNGs and sends a latent preview after every step), driven in Debian's Chromium.
 *
 * A prompt typed in the form becomes an SDXL batch whose card shows step progress and a preview
 * that changes while it runs, then the six images, which can be enlarged, compared, re-run one at a
 * time and sent back to the form. Refusals show at their field; Enhance shows a rewrite to review.
 *
 * Two things the test host cannot do are stood in for at the browser's network layer, and only
 * those: it has no Qwen enhancer (so one Enhance answer is supplied), and its pipeline writes PNGs
 * for video types too (so one WAN video job's asset is answered as an H.264 clip made here with
 * ffmpeg, served with Range like the real media route). Everything else is the real engine.
 *
 * Screenshots: docs/screenshots/workspace.png (a job running) and workspace-results.png (results).
 * Needs `electron-vite build` first (npm test runs it).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RENDERER_INDEX = path.join(ROOT, 'out/renderer/index.html');
const SERVE_HOST = path.join(ROOT, 'tests/fixtures/serve-host.ts');
const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const UI_TIMEOUT = 30_000;

const LIGHTHOUSE = 'A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain';
const BOAT = 'A paper boat drifting down a rain-soaked street, slow dolly shot, evening light';

interface Host {
  readonly child: ChildProcess;
  readonly openUrl: string;
  readonly origin: string;
}

async function startServeHost(dataDir: string): Promise<Host> {
  const child = spawn(process.execPath, [SERVE_HOST, '--data', dataDir, '--max-attempts', '1'], {
    cwd: ROOT,
    // Steps long enough that several previews are seen, short enough to finish quickly.
    env: { ...process.env, OURVIDZ_TEST_STEP_MS: '150' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`serve-host exited (${code}) before printing its URL:\n${stderr}`)));
    child.once('error', reject);
  });
  const ready = JSON.parse(line) as { url: string; token: string; openUrl?: string };
  return { child, openUrl: ready.openUrl ?? `${ready.url}/#token=${ready.token}`, origin: ready.url };
}

async function stopServeHost(host: Host | null): Promise<void> {
  if (!host || host.child.exitCode !== null) return;
  const exited = new Promise((resolve) => host.child.once('exit', resolve));
  host.child.kill('SIGTERM');
  await exited;
}

/** Polls what the page shows until it matches (the engine works at its own pace). */
const until = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: UI_TIMEOUT, interval: 50 });

const feed = (page: Page) => page.getByRole('region', { name: 'Submitted from here' });
/** A job's card, found by its prompt and a text only it shows. */
const card = (page: Page, prompt: string, hasText?: string) =>
  feed(page)
    .locator('li.job', { hasText: prompt })
    .filter(hasText ? { hasText } : {});
const statusOf = (c: Locator) => c.getByTestId('job-status');

/** Every distinct live-preview image the card shows, recorded as it changes (browser code, kept as text). */
async function recordPreviews(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const seen = (window.__previews = []);
    const read = () => {
      for (const img of document.querySelectorAll('img[data-testid="live-preview"]')) {
        const src = img.getAttribute('src');
        if (src && !seen.includes(src)) seen.push(src);
      }
    };
    read();
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
  })()`);
}
const recordedPreviews = (page: Page) => page.evaluate('window.__previews') as Promise<string[]>;

/** Whether every <img> in the locator has loaded real pixels. */
const loadedImages = (images: Locator) =>
  images.evaluateAll((els) => els.map((el) => (el as unknown as { complete: boolean; naturalWidth: number }).naturalWidth > 0));

/** Answers a request for a file with HTTP Range, as the real media route does. */
async function fulfillWithRanges(route: Route, body: Buffer, contentType: string): Promise<void> {
  const range = /^bytes=(\d*)-(\d*)$/.exec(route.request().headers()['range'] ?? '');
  if (!range) {
    await route.fulfill({ status: 200, body, headers: { 'content-type': contentType, 'accept-ranges': 'bytes' } });
    return;
  }
  const start = range[1] ? Number(range[1]) : body.length - Number(range[2]);
  const end = range[1] && range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
  await route.fulfill({
    status: 206,
    body: body.subarray(start, end + 1),
    headers: {
      'content-type': contentType,
      'accept-ranges': 'bytes',
      'content-range': `bytes ${start}-${end}/${body.length}`,
    },
  });
}

describe('Workspace, live in the browser against studio serve', () => {
  let dataDir = '';
  let host: Host | null = null;
  let browser: Browser | null = null;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(RENDERER_INDEX)) {
      throw new Error(`${path.relative(ROOT, RENDERER_INDEX)} is missing: build the renderer first with \`npx electron-vite build\` (npm test does this).`);
    }
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH.`);
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-ws-e2e-'));
    host = await startServeHost(dataDir);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.origin });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await stopServeHost(host);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('generates an SDXL batch from the form: step progress, a changing live preview, then the six images', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    // The preset of the chosen type is shown with the picker.
    await expect.poll(() => page.locator('.ws-preset').textContent()).toContain('15 steps');
    const prompt = page.getByLabel('Prompt', { exact: true });
    await prompt.fill(LIGHTHOUSE);
    await page.getByLabel('Negative prompt').fill('blurry, washed out, text');
    await page.getByRole('textbox', { name: 'Seed' }).fill('1234');
    await page.getByRole('textbox', { name: 'Steps' }).fill('24');
    await page.getByRole('radio', { name: /1216×832/ }).click();
    await expect.poll(() => page.getByRole('textbox', { name: 'Width' }).inputValue()).toBe('1216');
    await recordPreviews(page);
    await prompt.press('Control+Enter');

    const job = card(page, LIGHTHOUSE);
    await until(() => job.getByTestId('step-text').textContent()).toMatch(/^Step ([4-9]|1\d) of 24$/);
    await job.getByRole('progressbar').waitFor();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'workspace.png') });
    await until(() => statusOf(job).textContent()).toBe('Done · 6 images');

    const previews = await recordedPreviews(page);
    expect(previews.length).toBeGreaterThan(1);
    for (const src of previews) expect(src).toMatch(/^data:image\/png;base64,/);
    expect(await job.getByTestId('live-preview').count()).toBe(0);

    const images = job.getByTestId('result').locator('img');
    await until(() => images.count()).toBe(6);
    await until(() => loadedImages(images)).toEqual([true, true, true, true, true, true]);
    expect(await job.textContent()).toContain('seed 1234');
    expect(await job.textContent()).toContain('1216×832');
  });

  it('enlarges an image and steps through the batch, compares two side by side and copies a seed', async () => {
    const job = card(page, LIGHTHOUSE);
    await job.getByRole('button', { name: 'Enlarge image 3 of 6' }).click();
    const lightbox = page.getByRole('dialog');
    await expect.poll(() => lightbox.getByRole('heading').textContent()).toBe('Image 3 of 6');
    await until(() => loadedImages(lightbox.locator('img'))).toEqual([true]);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => lightbox.getByRole('heading').textContent()).toBe('Image 4 of 6');
    await page.keyboard.press('Escape');
    await until(() => lightbox.count()).toBe(0);

    await job.getByRole('button', { name: 'Select image 2' }).click();
    await job.getByRole('button', { name: 'Select image 5' }).click();
    await job.getByRole('button', { name: 'Compare' }).click();
    const compare = page.getByRole('dialog');
    await expect.poll(() => compare.getByRole('heading').textContent()).toBe('Image 2 and image 5, side by side');
    await until(() => loadedImages(compare.locator('img'))).toEqual([true, true]);
    await page.keyboard.press('Escape');

    // The test pipeline records seed + batch position on each image; copy reads the image's own.
    await job.getByTestId('result').nth(1).hover();
    await job.getByRole('button', { name: 'Copy seed of image 2' }).click();
    await page.locator('.toast', { hasText: 'Seed copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('1235');
  });

  it('re-runs one image of the batch alone: same seed, one image, its place in the batch', async () => {
    const job = card(page, LIGHTHOUSE);
    await job.getByTestId('result').nth(2).hover();
    await job.getByRole('button', { name: 'Re-run image 3' }).click();
    const rerun = card(page, LIGHTHOUSE, "image 3 of the seed's batch");
    await until(() => statusOf(rerun).textContent()).toBe('Done · 1 image');
    expect(await rerun.textContent()).toContain('seed 1234');
    await until(() => loadedImages(rerun.getByTestId('result').locator('img'))).toEqual([true]);
    // Newest first: the re-run's card is above the batch it came from.
    expect(await feed(page).locator('li.job').first().textContent()).toContain("image 3 of the seed's batch");
  });

  it("sends a job's settings back into the form", async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('something else entirely');
    await page.getByRole('textbox', { name: 'Seed' }).fill('');
    await card(page, LIGHTHOUSE, 'Done · 6 images').getByRole('button', { name: 'Use settings' }).click();
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe(LIGHTHOUSE);
    expect(await page.getByLabel('Negative prompt').inputValue()).toBe('blurry, washed out, text');
    expect(await page.getByLabel('Job type', { exact: true }).inputValue()).toBe('sdxl_image_fast');
    expect(await page.getByRole('textbox', { name: 'Seed' }).inputValue()).toBe('1234');
    expect(await page.getByRole('button', { name: 'Lock' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByRole('textbox', { name: 'Steps' }).inputValue()).toBe('24');
    expect(await page.getByRole('textbox', { name: 'Width' }).inputValue()).toBe('1216');
    await page.getByText('Settings loaded into the form').waitFor();

    // And from the lightbox of one image.
    await page.getByLabel('Prompt', { exact: true }).fill('changed again');
    await card(page, LIGHTHOUSE, 'Done · 6 images').getByRole('button', { name: 'Enlarge image 1 of 6' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Use these settings' }).click();
    await until(() => page.getByRole('dialog').count()).toBe(0);
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe(LIGHTHOUSE);
  });

  it('names a mistake at its field, from the form and from the engine', async () => {
    const width = page.getByRole('textbox', { name: 'Width' });
    await width.fill('1001');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await until(() => width.getAttribute('aria-invalid')).toBe('true');
    const message = await page.locator(`[id="${await width.getAttribute('aria-describedby')}"]`).textContent();
    expect(message).toContain('Width must be a multiple of 8');
    await width.fill('1216');
    expect(await width.getAttribute('aria-invalid')).toBeNull();

    // A refusal only the engine can make (its answer stood in for here) lands at the field it names.
    await page.route('**/api/jobs.enqueue', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'invalid_params', message: 'steps must be from 1 to 150 (got 0)', field: 'request.steps' } }),
      }),
    );
    await page.getByLabel('Prompt', { exact: true }).press('Control+Enter');
    const steps = page.getByRole('textbox', { name: 'Steps' });
    await until(() => steps.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`[id="${await steps.getAttribute('aria-describedby')}"]`).textContent()).toBe('Steps must be from 1 to 150 (got 0)');
    await page.unroute('**/api/jobs.enqueue');
  });

  it('shows why a job failed, and Retry runs it again', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('Harbour at night [fail]');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const job = card(page, 'Harbour at night [fail]');
    await until(() => statusOf(job).textContent()).toBe('Failed');
    expect(await job.getByRole('alert').textContent()).toContain('The test pipeline was told to fail');

    const jobId = (await job.getAttribute('data-job-id'))!;
    await page.evaluate(`(() => {
      const seen = (window.__statuses = []);
      const read = () => {
        const el = document.querySelector('li.job[data-job-id=${JSON.stringify(jobId)}] [data-testid="job-status"]');
        const text = el ? el.textContent : null;
        if (text !== null && seen[seen.length - 1] !== text) seen.push(text);
      };
      read();
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    await job.getByRole('button', { name: 'Retry' }).click();
    await until(() => page.evaluate('window.__statuses.length')).toBeGreaterThanOrEqual(3);
    await until(() => statusOf(job).textContent()).toBe('Failed');
    const seen = (await page.evaluate('window.__statuses')) as string[];
    expect(seen[0]).toBe('Failed');
    expect(seen.slice(1, -1).some((s) => s.startsWith('Queued') || s === 'Running')).toBe(true);
    // Still one card: the retry is the same job.
    expect(await card(page, 'Harbour at night [fail]').count()).toBe(1);
  });

  it('enhances a prompt: says so when no enhancer is installed, and queues the reviewed rewrite as the enhanced type', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    const prompt = page.getByLabel('Prompt', { exact: true });
    await prompt.fill('paper boat in the rain');
    await page.getByRole('button', { name: 'Enhance', exact: true }).click();
    const box = page.getByRole('region', { name: 'Prompt enhancement' });
    await until(() => box.textContent()).toMatch(/enhancer not installed/i);
    await box.getByRole('button', { name: 'Close' }).click();

    // The test host has no Qwen model: its answer is stood in for, once with a fallback warning.
    let warning: string | null = 'The rewrite looked like a refusal, so the original prompt is kept.';
    await page.route('**/api/prompts.enhance', async (route) => {
      const { prompt: original } = route.request().postDataJSON() as { prompt: string };
      const text = warning ? original : `${BOAT}, puddles catching neon reflections`;
      await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ original, text, warning, model: 'qwen2.5-7b', ms: 900 }) });
    });
    await page.getByRole('button', { name: 'Enhance', exact: true }).click();
    await box.getByText('The rewrite looked like a refusal').waitFor();
    expect(await box.getByRole('textbox', { name: 'Enhanced prompt' }).inputValue()).toBe('paper boat in the rain');

    warning = null;
    await page.getByRole('button', { name: 'Enhance', exact: true }).click();
    const rewrite = box.getByRole('textbox', { name: 'Enhanced prompt' });
    await until(() => rewrite.inputValue()).toBe(`${BOAT}, puddles catching neon reflections`);
    await rewrite.fill(`${BOAT}, puddles catching neon reflections, 35mm`);
    await box.getByRole('button', { name: 'Queue enhanced' }).click();
    await until(() => box.count()).toBe(0);
    await page.unroute('**/api/prompts.enhance');

    const job = card(page, 'paper boat in the rain');
    expect(await job.locator('.ws-kind').textContent()).toBe('WAN image · fast · enhanced');
    expect(await job.textContent()).toContain(`Enhanced ${BOAT}, puddles catching neon reflections, 35mm`);
    await until(() => statusOf(job).textContent()).toBe('Done · 1 image');
    // Nothing changed in the prompt field: the rewrite went with the job, the original stays to edit.
    expect(await prompt.inputValue()).toBe('paper boat in the rain');
  });

  it('shows a WAN video result in a player that plays, steps frames, scrubs and loops', async () => {
    const clipDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-ws-clip-'));
    const clip = path.join(clipDir, 'clip.mp4');
    // 33 frames at 16 fps, H.264 yuv420p with faststart: what the WAN pipeline writes.
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=480x832:rate=16', '-frames:v', '33', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', clip]);
    const mp4 = readFileSync(clip);
    await rm(clipDir, { recursive: true, force: true });

    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN video · fast' });
    await page.getByRole('radio', { name: /^33 frames/ }).click();
    await page.getByRole('textbox', { name: 'Seed' }).fill('');
    await page.getByLabel('Prompt', { exact: true }).fill(BOAT);

    // The test pipeline writes a PNG even for video types; this job's asset is answered as the clip.
    let assetId: string | null = null;
    await page.route('**/api/library.get', async (route) => {
      const response = await route.fetch();
      const asset = (await response.json()) as Record<string, unknown> | null;
      if (!asset || asset['jobType'] !== 'video_fast') return route.fulfill({ response });
      assetId = asset['id'] as string;
      const video = { ...asset, kind: 'video', mime: 'video/mp4', fps: 16, frameCount: 33, durationMs: 2063, width: 480, height: 832 };
      return route.fulfill({ response, json: video });
    });
    await page.route('**/studio-media/asset/*/original*', async (route) => {
      if (assetId && route.request().url().includes(`/asset/${encodeURIComponent(assetId)}/`)) {
        return fulfillWithRanges(route, mp4, 'video/mp4');
      }
      return route.continue();
    });
    await page.getByRole('button', { name: 'Generate', exact: true }).click();

    const job = card(page, BOAT, 'WAN video');
    await until(() => statusOf(job).textContent()).toBe('Done · 1 video');
    expect(await job.textContent()).toContain('33 frames · 2.1 s');
    const player = job.getByRole('group', { name: /^Video player/ });
    const video = player.locator('video');
    const frame = player.getByTestId('video-frame');
    await until(() => video.evaluate((v) => (v as unknown as { readyState: number }).readyState)).toBeGreaterThanOrEqual(2);

    // It starts playing on its own and loops: time moves on.
    await until(() => player.getAttribute('data-playing')).toBe('true');
    const pause = player.getByRole('button', { name: 'Pause' });
    await pause.click();
    await until(() => player.getAttribute('data-playing')).toBe('false');

    // Frame steps, by button and by key, land on exact frames.
    await player.focus();
    await page.keyboard.press('Home');
    await until(() => frame.textContent()).toBe('Frame 1 / 33');
    await page.keyboard.press('.');
    await until(() => frame.textContent()).toBe('Frame 2 / 33');
    await page.keyboard.press('ArrowRight');
    await until(() => frame.textContent()).toBe('Frame 3 / 33');
    await player.getByRole('button', { name: 'Next frame' }).click();
    await until(() => frame.textContent()).toBe('Frame 4 / 33');
    await page.keyboard.press(',');
    await until(() => frame.textContent()).toBe('Frame 3 / 33');
    const shown = await video.evaluate((v) => (v as unknown as { currentTime: number }).currentTime);
    expect(Math.floor(shown * 16)).toBe(2);
    expect(await player.getByTestId('video-time').textContent()).toBe('0:00.13 / 0:02.06');

    // The scrub bar moves in whole frames.
    await player.getByRole('slider', { name: 'Position' }).fill('20');
    await until(() => frame.textContent()).toBe('Frame 21 / 33');
    await page.keyboard.press('End');
    await until(() => frame.textContent()).toBe('Frame 33 / 33');

    // Looping is on by default; turned off, the clip plays once to its end and stops there.
    const loop = player.getByRole('button', { name: 'Loop' });
    expect(await loop.getAttribute('aria-pressed')).toBe('true');
    await loop.click();
    expect(await loop.getAttribute('aria-pressed')).toBe('false');
    expect(await video.evaluate((v) => (v as unknown as { loop: boolean }).loop)).toBe(false);
    await player.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press(' ');
    await until(() => player.getAttribute('data-playing')).toBe('true');
    await until(() => player.getAttribute('data-playing')).toBe('false');
    await until(() => frame.textContent()).toBe('Frame 33 / 33');

    // Cards can be put away (the jobs stay in the Queue and the Library).
    for (const prompt of ['paper boat in the rain', "image 3 of the seed's batch"]) {
      const put = feed(page).locator('li.job', { hasText: prompt });
      await put.getByRole('button', { name: 'Remove from the workspace' }).click();
      await until(() => put.count()).toBe(0);
    }

    // Results as a person sees them: the clip, and the batch below it.
    await page.keyboard.press('Home');
    for (const close of await page.locator('.toast-close').all()) await close.click();
    await until(() => page.locator('.toast').count()).toBe(0);
    await page.setViewportSize({ width: 1360, height: 1320 });
    await page.evaluate(`document.querySelectorAll('.ws-feed, .ws-form-body').forEach((el) => el.scrollTo(0, 0))`);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'workspace-results.png') });
    await page.setViewportSize({ width: 1360, height: 860 });
    await page.unroute('**/api/library.get');
    await page.unroute('**/studio-media/asset/*/original*');
    expect(pageErrors).toEqual([]);
  });
});
