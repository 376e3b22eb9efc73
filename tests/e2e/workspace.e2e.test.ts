/**
 * The Workspace end to end in a real browser: the built renderer (out/renderer) served by
 * `studio serve` with the real engine and the test-only pipeline (tests/fixtures/serve-host.ts,
 * which writes real PNGs, real H.264 MP4s for video types, and sends a latent preview after every
 * step), driven in Debian's Chromium. The host runs with `--enhancer`: the project's tiny
 * Qwen2-contract enhancer is installed, so Enhance and the *_enhanced types run the real enhancer
 * pipeline in its worker (its 'good' variant always answers with GOOD_REPLY).
 *
 * A prompt typed in the form becomes an SDXL batch whose card shows step progress and a preview
 * that changes while it runs, then the six images, which can be enlarged, compared, re-run one at a
 * time (with the same pixels) and sent back to the form. Refusals show at their field; Enhance shows
 * the enhancer's rewrite to review and queues it; a WAN clip plays from the real media route.
 * Nothing is stood in for: every answer the page gets comes from the engine.
 *
 * Screenshots (see support.ts's screenshot): workspace.png (a job running) and workspace-results.png
 * (results).
 * Needs `electron-vite build` first (npm test runs it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetView, JobView } from '../../src-preload/contract/index.ts';
import { GOOD_REPLY } from '../fixtures/qwen/build-qwen.ts';
import { VIEWPORT, launchBrowser, recordStatuses, recordedStatuses, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const LIGHTHOUSE = 'A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain';
const BOAT = 'A paper boat drifting down a rain-soaked street, slow dolly shot, evening light';
const RAIN = 'paper boat in the rain';
const CRANE = 'origami crane on a windowsill';

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

/** The library ids of a finished job's outputs. */
function assetsOf(job: JobView): readonly string[] {
  if (job.status.state !== 'done') throw new Error(`job ${job.id} is ${job.status.state}, not done`);
  return job.status.assets;
}

interface Pixels {
  readonly contentType: string | null;
  readonly width: number;
  readonly height: number;
  /** SHA-256 of the decoded RGBA pixels. */
  readonly digest: string;
}

/** Fetches a picture through the page (the real media route), decodes it and digests its pixels. */
const imagePixels = (page: Page, url: string) =>
  page.evaluate(`(async () => {
    const res = await fetch(${JSON.stringify(url)});
    if (!res.ok) throw new Error('media route answered ' + res.status);
    const bitmap = await createImageBitmap(await res.blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return {
      contentType: res.headers.get('content-type'),
      width: bitmap.width,
      height: bitmap.height,
      digest: Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join(''),
    };
  })()`) as Promise<Pixels>;

/** The full-size URL of a result tile's picture (tiles show the thumbnail). */
const originalOf = async (tile: Locator) => (await tile.locator('img').getAttribute('src'))!.replace(/\/thumb\?/, '/original?');

/**
 * A digest of the frame a job's <video> shows now, drawn through a canvas; null while it is
 * seeking or has no frame yet (browser code, kept as text).
 */
const shownFrame = (page: Page, jobId: string) =>
  page.evaluate(`(async () => {
    const v = document.querySelector(${JSON.stringify(`li.job[data-job-id="${jobId}"] video`)});
    if (!v || v.seeking || v.readyState < 2) return null;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(v, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
  })()`) as Promise<string | null>;

const videoProp = <K extends 'readyState' | 'duration' | 'currentTime' | 'loop' | 'videoWidth' | 'videoHeight'>(video: Locator, key: K) =>
  video.evaluate((v, k) => (v as unknown as Record<string, number | boolean>)[k], key) as Promise<K extends 'loop' ? boolean : number>;

describe('Workspace, live in the browser against studio serve', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-ws-e2e-'));
    host = await startHost({
      dataDir,
      args: ['--max-attempts', '1', '--enhancer'],
      // Steps long enough that several previews are seen, short enough to finish quickly.
      env: { OURVIDZ_TEST_STEP_MS: '150' },
    });
    session = await launchBrowser();
    ({ page, pageErrors } = session);
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
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
    await screenshot(page, 'workspace');
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
    await expect.poll(() => compare.getByRole('heading').textContent()).toBe('Image 2 and image 5');
    await until(() => loadedImages(compare.locator('img'))).toEqual([true, true]);
    await page.keyboard.press('Escape');

    // Every image of the batch has the job's seed; what makes image 2 alone is that seed and its batch index.
    await job.getByTestId('result').nth(1).hover();
    await job.getByRole('button', { name: 'Copy seed of image 2' }).click();
    await page.locator('.toast', { hasText: 'Seed copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('seed 1234, batch index 1');
  });

  it('re-runs one image of the batch alone: same seed, one image, its place in the batch, the same pixels', async () => {
    const job = card(page, LIGHTHOUSE, 'Done · 6 images');
    await job.getByTestId('result').nth(2).hover();
    await job.getByRole('button', { name: 'Re-run image 3' }).click();
    const rerun = card(page, LIGHTHOUSE, "image 3 of the seed's batch");
    await until(() => statusOf(rerun).textContent()).toBe('Done · 1 image');
    expect(await rerun.textContent()).toContain('seed 1234');
    await until(() => loadedImages(rerun.getByTestId('result').locator('img'))).toEqual([true]);
    // Newest first: the re-run's card is above the batch it came from.
    expect(await feed(page).locator('li.job').first().textContent()).toContain("image 3 of the seed's batch");

    // The re-run is image 3 again, pixel for pixel (both full-size files, through the media route),
    // and not just any image of the batch.
    const again = await imagePixels(page, await originalOf(rerun.getByTestId('result')));
    const third = await imagePixels(page, await originalOf(job.getByTestId('result').nth(2)));
    const second = await imagePixels(page, await originalOf(job.getByTestId('result').nth(1)));
    expect(again).toMatchObject({ contentType: 'image/png', width: 1216, height: 832 });
    expect(again.digest).toBe(third.digest);
    expect(second.digest).not.toBe(third.digest);
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

    // The form checks with the engine's own rules, so nothing it refuses is ever sent.
    const steps = page.getByRole('textbox', { name: 'Steps' });
    await steps.fill('0');
    const jobsBefore = (await host!.api<JobView[]>('jobs.list', {})).length;
    await page.getByLabel('Prompt', { exact: true }).press('Control+Enter');
    await until(() => steps.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`[id="${await steps.getAttribute('aria-describedby')}"]`).textContent()).toMatch(/^Steps must be from 1 to 150 \(got 0\)/);
    expect((await host!.api<JobView[]>('jobs.list', {})).length).toBe(jobsBefore);
    await steps.fill('24');
    expect(await steps.getAttribute('aria-invalid')).toBeNull();
  });

  it('shows why a job failed, and Retry runs it again', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('Harbour at night [fail]');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const job = card(page, 'Harbour at night [fail]');
    await until(() => statusOf(job).textContent()).toBe('Failed');
    expect(await job.getByRole('alert').textContent()).toContain('The test pipeline was told to fail');

    const jobId = (await job.getAttribute('data-job-id'))!;
    await recordStatuses(page, `li.job[data-job-id="${jobId}"] [data-testid="job-status"]`);
    await job.getByRole('button', { name: 'Retry' }).click();
    await until(async () => (await recordedStatuses(page)).length).toBeGreaterThanOrEqual(3);
    await until(() => statusOf(job).textContent()).toBe('Failed');
    const seen = await recordedStatuses(page);
    expect(seen[0]).toBe('Failed');
    expect(seen.slice(1, -1).some((s) => s.startsWith('Queued') || s === 'Running')).toBe(true);
    // Still one card: the retry is the same job.
    expect(await card(page, 'Harbour at night [fail]').count()).toBe(1);
  });

  it('enhances a prompt with the real enhancer, and queues the reviewed rewrite as the enhanced type', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    await page.getByRole('textbox', { name: 'Steps' }).fill('');
    await page.getByRole('textbox', { name: 'Seed' }).fill('');
    const prompt = page.getByLabel('Prompt', { exact: true });
    await prompt.fill(RAIN);
    await page.getByRole('button', { name: 'Enhance', exact: true }).click();
    const box = page.getByRole('region', { name: 'Prompt enhancement' });
    // The enhancer worker answers: the rewrite, in a box that can be edited before it is used.
    const rewrite = box.getByRole('textbox', { name: 'Enhanced prompt' });
    await until(() => rewrite.inputValue()).toBe(GOOD_REPLY);
    expect(await box.textContent()).toContain('Rewrite for WAN');
    expect(await box.textContent()).toContain('by qwen-tiny');
    const reviewed = `${GOOD_REPLY} Shot on 35mm film.`;
    await rewrite.fill(reviewed);
    await box.getByRole('button', { name: 'Queue enhanced' }).click();
    await until(() => box.count()).toBe(0);

    const job = card(page, RAIN);
    expect(await job.locator('.ws-kind').textContent()).toBe('WAN image · fast · enhanced');
    expect(await job.textContent()).toContain(`Enhanced ${reviewed}`);
    await until(() => statusOf(job).textContent()).toBe('Done · 1 image');
    await until(() => loadedImages(job.getByTestId('result').locator('img'))).toEqual([true]);
    // Nothing changed in the prompt field: the rewrite went with the job, the original stays to edit.
    expect(await prompt.inputValue()).toBe(RAIN);
    // The job and its image keep both prompts.
    const done = await host!.api<JobView>('jobs.get', { id: await job.getAttribute('data-job-id') });
    expect(done.type).toBe('image7b_fast_enhanced');
    expect(done.params).toMatchObject({ prompt: RAIN, enhancedPrompt: reviewed });
    expect(done.status.state).toBe('done');
    const asset = await host!.api<AssetView>('library.get', { id: assetsOf(done)[0] });
    expect(asset).toMatchObject({ prompt: RAIN, enhancedPrompt: reviewed });
  });

  it('runs the enhancer first for an enhanced type queued straight from the form', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast · enhanced' });
    await page.getByLabel('Prompt', { exact: true }).fill(CRANE);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const job = card(page, CRANE);
    await until(() => statusOf(job).textContent()).toBe('Done · 1 image');
    // The rewrite the job ran is shown with the original it came from.
    await until(() => job.locator('.ws-card-enhanced').textContent()).toBe(`Enhanced ${GOOD_REPLY}`);
    expect(await job.textContent()).toContain(CRANE);
    expect(await job.locator('.ws-warning').count()).toBe(0);
    await until(() => loadedImages(job.getByTestId('result').locator('img'))).toEqual([true]);
    const done = await host!.api<JobView>('jobs.get', { id: await job.getAttribute('data-job-id') });
    expect(done).toMatchObject({ type: 'image7b_fast_enhanced', enhancedPrompt: GOOD_REPLY, enhanceWarning: null });
    expect(done.params).toMatchObject({ prompt: CRANE, enhancedPrompt: null });
    expect(await host!.api<AssetView>('library.get', { id: assetsOf(done)[0] })).toMatchObject({ prompt: CRANE, enhancedPrompt: GOOD_REPLY });
  });

  it('shows a WAN video result in a player that plays, steps frames, scrubs and loops', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN video · fast' });
    await page.getByRole('radio', { name: /^17 frames/ }).click();
    await page.getByRole('textbox', { name: 'Seed' }).fill('');
    await page.getByRole('textbox', { name: 'Steps' }).fill('3');
    await page.getByRole('textbox', { name: 'Width' }).fill('256');
    await page.getByRole('textbox', { name: 'Height' }).fill('256');
    await page.getByLabel('Prompt', { exact: true }).fill(BOAT);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();

    const job = card(page, BOAT, 'WAN video');
    await until(() => statusOf(job).textContent()).toBe('Done · 1 video');
    expect(await job.textContent()).toContain('17 frames · 1.1 s');
    expect(await job.textContent()).toContain('256×256');
    const player = job.getByRole('group', { name: /^Video player/ });
    const video = player.locator('video');
    const frame = player.getByTestId('video-frame');

    // The clip the pipeline wrote, from the real media route (which answers byte ranges).
    const jobId = (await job.getAttribute('data-job-id'))!;
    const done = await host!.api<JobView>('jobs.get', { id: jobId });
    const assetId = assetsOf(done)[0]!;
    expect(await host!.api<AssetView>('library.get', { id: assetId })).toMatchObject({
      kind: 'video', mime: 'video/mp4', fps: 16, frameCount: 17, width: 256, height: 256,
    });
    const src = (await video.getAttribute('src'))!;
    expect(src.startsWith(`${host!.url}/studio-media/asset/${encodeURIComponent(assetId)}/original?key=`)).toBe(true);
    const head = await fetch(src, { headers: { range: 'bytes=0-11' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await head.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');

    await until(() => videoProp(video, 'readyState')).toBeGreaterThanOrEqual(2);
    expect(await videoProp(video, 'duration')).toBeCloseTo(17 / 16, 2);
    expect([await videoProp(video, 'videoWidth'), await videoProp(video, 'videoHeight')]).toEqual([256, 256]);

    // It starts playing on its own and loops: time moves on.
    await until(() => player.getAttribute('data-playing')).toBe('true');
    const pause = player.getByRole('button', { name: 'Pause' });
    await pause.click();
    await until(() => player.getAttribute('data-playing')).toBe('false');

    // Frame steps, by button and by key, land on exact frames.
    await player.focus();
    await page.keyboard.press('Home');
    await until(() => frame.textContent()).toBe('Frame 1 / 17');
    await page.keyboard.press('.');
    await until(() => frame.textContent()).toBe('Frame 2 / 17');
    await page.keyboard.press('ArrowRight');
    await until(() => frame.textContent()).toBe('Frame 3 / 17');
    await until(() => shownFrame(page, jobId)).not.toBeNull();
    const third = await shownFrame(page, jobId);
    expect(third).toMatch(/^[0-9a-f]{64}$/);
    await player.getByRole('button', { name: 'Next frame' }).click();
    await until(() => frame.textContent()).toBe('Frame 4 / 17');
    expect(Math.floor((await videoProp(video, 'currentTime')) * 16)).toBe(3);
    // One step shows the next picture of the clip; one step back shows frame 3 again.
    await until(() => shownFrame(page, jobId)).not.toBeNull();
    expect(await shownFrame(page, jobId)).not.toBe(third);
    await page.keyboard.press(',');
    await until(() => frame.textContent()).toBe('Frame 3 / 17');
    await until(() => shownFrame(page, jobId)).toBe(third);
    const shown = await videoProp(video, 'currentTime');
    expect(Math.floor(shown * 16)).toBe(2);
    expect(await player.getByTestId('video-time').textContent()).toBe('0:00.13 / 0:01.06');

    // The scrub bar moves in whole frames, and the video's time with it.
    await player.getByRole('slider', { name: 'Position' }).fill('10');
    await until(() => frame.textContent()).toBe('Frame 11 / 17');
    expect(Math.floor((await videoProp(video, 'currentTime')) * 16)).toBe(10);
    await until(() => shownFrame(page, jobId)).not.toBeNull();
    expect(await shownFrame(page, jobId)).not.toBe(third);
    await page.keyboard.press('End');
    await until(() => frame.textContent()).toBe('Frame 17 / 17');

    // Looping is on by default; turned off, the clip plays once to its end and stops there.
    const loop = player.getByRole('button', { name: 'Loop' });
    expect(await loop.getAttribute('aria-pressed')).toBe('true');
    await loop.click();
    expect(await loop.getAttribute('aria-pressed')).toBe('false');
    expect(await videoProp(video, 'loop')).toBe(false);
    await player.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press(' ');
    await until(() => player.getAttribute('data-playing')).toBe('true');
    await until(() => player.getAttribute('data-playing')).toBe('false');
    await until(() => frame.textContent()).toBe('Frame 17 / 17');

    // Cards can be put away (the jobs stay in the Queue and the Library).
    for (const prompt of [RAIN, CRANE, "image 3 of the seed's batch"]) {
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
    await screenshot(page, 'workspace-results');
    await page.setViewportSize(VIEWPORT);
    expect(pageErrors).toEqual([]);
  });
});
