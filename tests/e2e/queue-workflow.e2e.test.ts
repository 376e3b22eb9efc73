/**
 * A queue a creator can work from, in Chromium against `studio serve` (the real engine, the
 * test-only pipeline): finished rows show their outputs and open them, put their settings back into
 * the Workspace or run again; finished jobs can be cleared; waiting jobs are reordered by dragging
 * and from the keyboard, through the engine (the order it runs); the header says how jobs really
 * share the GPU (an SDXL and a WAN job side by side); and a job moved to the front while the
 * scheduler was still releasing the last model starts first after a resume.
 *
 * Screenshots: queue-1440.png and queue-1024.png (running and waiting jobs, the queue paused),
 * queue-finished-1440.png and queue-finished-1024.png (finished rows with their outputs),
 * queue-results-1024.png (a job's results opened from its row).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetPage, JobView } from '../../src-preload/contract/index.ts';
import { jobsDone, launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const row = (scope: Page | Locator, prompt: string) => scope.locator('li.job', { hasText: prompt });
const statusOf = (r: Locator) => r.getByTestId('job-status');
const upNextPrompts = (page: Page) => page.getByRole('region', { name: 'Up next' }).locator('li.job .job-prompt').allTextContents();
const queuedPrompts = async (host: Host) => (await host.api<JobView[]>('jobs.list', { states: ['queued'] })).map((j) => j.params.prompt);

interface Enqueue {
  readonly type?: string;
  readonly prompt: string;
  readonly [key: string]: unknown;
}
const enqueue = (host: Host, { type = 'sdxl_image_fast', ...rest }: Enqueue) =>
  host.api<JobView>('jobs.enqueue', { request: { type, steps: 3, width: 512, height: 512, count: 1, ...rest } });

async function viewQueue(page: Page): Promise<void> {
  await page.getByRole('tab', { name: /Queue/ }).click();
  await page.getByRole('heading', { name: 'Queue', level: 1 }).waitFor();
}

describe('A queue you can work from', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-queue-'));
    host = await startHost({ dataDir, args: ['--max-attempts', '1'], env: { OURVIDZ_TEST_STEP_MS: '80' } });
    session = await launchBrowser();
    page = session.page;
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows a finished job’s outputs, opens them, loads its settings into the Workspace and runs it again', async () => {
    const prompt = 'A lighthouse on a basalt cliff at dusk, volumetric light';
    const job = await enqueue(host!, { prompt, seed: 1234, steps: 3, count: 6 });
    await jobsDone(host!, [job.id]);

    await page.goto(host!.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await viewQueue(page);
    const finished = page.getByRole('region', { name: 'Finished' });
    const done = row(finished, prompt);
    await until(() => statusOf(done).textContent()).toBe('Done · 6 images');

    // The outputs themselves, not an icon: four thumbnails, the rest counted.
    const strip = done.getByRole('button', { name: /^Open the 6 images of/ });
    await until(() => strip.locator('img').count()).toBe(4);
    await until(() => strip.locator('img').evaluateAll((imgs) => imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);
    expect(await strip.textContent()).toContain('+2');

    // A click opens the results: the six images, enlargeable, with the job's recipe.
    await strip.click();
    const dialog = page.getByRole('dialog', { name: 'SDXL image · fast · 6 images' });
    await dialog.waitFor();
    await until(() => dialog.getByTestId('result').count()).toBe(6);
    expect(await dialog.textContent()).toContain('seed 1234');
    await page.setViewportSize({ width: 1024, height: 700 });
    await until(() => dialog.getByTestId('result').locator('img').evaluateAll((imgs) => imgs.every((i) => (i as unknown as { complete: boolean }).complete))).toBe(true);
    await screenshot(page, 'queue-results-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // Load settings: the Workspace form holds the job's recipe.
    await done.getByRole('button', { name: 'Load settings' }).click();
    await page.getByRole('heading', { name: 'Workspace', level: 1 }).waitFor();
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe(prompt);
    expect(await page.getByLabel('Seed').inputValue()).toBe('1234');
    expect(await page.getByLabel('Steps').inputValue()).toBe('3');

    // Run again: the same recipe queued as a new job, which runs.
    await viewQueue(page);
    await done.getByRole('button', { name: 'Run again' }).click();
    await until(async () => (await host!.api<JobView[]>('jobs.list', {})).filter((j) => j.params.prompt === prompt).length).toBe(2);
    const again = (await host!.api<JobView[]>('jobs.list', {})).find((j) => j.params.prompt === prompt && j.id !== job.id)!;
    expect(again.params).toMatchObject({ seed: 1234, steps: 3, count: 6, width: 512, height: 512 });
    await jobsDone(host!, [again.id]);
    await until(() => row(finished, prompt).count()).toBe(2);
  });

  it('says how jobs share the GPU: an SDXL and a WAN job run side by side, and the header says so', async () => {
    const sdxl = await enqueue(host!, { prompt: 'Neon city street in the rain, cinematic', steps: 150 });
    const wan = await enqueue(host!, { type: 'image_fast', prompt: 'Misty pine forest at sunrise, god rays', steps: 150, width: 480, height: 832 });
    const running = page.getByRole('region', { name: 'Running' });
    await until(() => running.locator('li.job').count()).toBe(2);
    expect(await running.getByRole('heading').textContent()).toContain('side by side: SDXL and WAN');
    const rule = await page.getByTestId('queue-rule').textContent();
    expect(rule).toContain('One SDXL and one WAN job can run at the same time when both fit the 8.0 GB VRAM budget');
    expect(rule).not.toMatch(/jobs run one at a time/i);
    for (const id of [sdxl.id, wan.id]) await host!.api('jobs.cancel', { id });
    await until(() => running.locator('li.job').count()).toBe(0);
  });

  it('reorders waiting jobs by drag and from the keyboard, and the engine runs them in that order', async () => {
    const long = await enqueue(host!, { prompt: 'Long render that keeps the GPU busy', steps: 150 });
    await until(async () => (await host!.api<JobView>('jobs.get', { id: long.id })).status.state).toBe('running');
    await page.getByRole('button', { name: 'Pause queue' }).click();
    await page.getByText('Queue paused.').waitFor();
    const prompts = ['Red fox in fresh snow', 'Old tram in Lisbon', 'Macro dragonfly wing', 'Desert caravan at night'];
    const [a, b, c, d] = prompts as [string, string, string, string];
    for (const prompt of prompts) await enqueue(host!, { prompt, count: 2 });
    await until(() => upNextPrompts(page)).toEqual([a, b, c, d]);

    // Drag D by its handle onto B's place.
    const upNext = page.getByRole('region', { name: 'Up next' });
    const handle = (prompt: string) => row(upNext, prompt).getByRole('button', { name: /^Move “/ });
    const from = (await handle(d).boundingBox())!;
    const target = (await row(upNext, b).boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + from.width / 2, target.y + 8, { steps: 12 });
    await page.mouse.up();
    await until(() => upNextPrompts(page)).toEqual([a, d, b, c]);
    await until(() => queuedPrompts(host!)).toEqual([a, d, b, c]);

    // The keyboard: ↑ twice on C's handle, the focus staying with C.
    await handle(c).focus();
    await page.keyboard.press('ArrowUp');
    await until(() => upNextPrompts(page)).toEqual([a, d, c, b]);
    await page.keyboard.press('ArrowUp');
    await until(() => upNextPrompts(page)).toEqual([a, c, d, b]);
    await until(() => queuedPrompts(host!)).toEqual([a, c, d, b]);
    expect(await page.evaluate('document.activeElement.closest("li").textContent')).toContain(c);
    // Home and End: to the front, to the back.
    await page.keyboard.press('End');
    await until(() => upNextPrompts(page)).toEqual([a, d, b, c]);
    await handle(b).focus();
    await page.keyboard.press('Home');
    await until(() => queuedPrompts(host!)).toEqual([b, a, d, c]);
    await until(() => upNextPrompts(page)).toEqual([b, a, d, c]);
    expect(await statusOf(row(upNext, b)).textContent()).toBe('Queued · #1');

    // The view as it is now: running, waiting and finished, at both window sizes.
    await page.mouse.move(0, 0);
    await page.evaluate('document.activeElement.blur()');
    await screenshot(page, 'queue-1440');
    await page.setViewportSize({ width: 1024, height: 700 });
    await screenshot(page, 'queue-1024');
    await page.setViewportSize({ width: 1440, height: 900 });

    // Resume: the engine starts them in the order they were put in.
    const ids = (await host!.api<JobView[]>('jobs.list', { states: ['queued'] })).map((j) => j.id);
    await host!.api('jobs.cancel', { id: long.id });
    await page.getByRole('button', { name: 'Resume queue' }).click();
    await jobsDone(host!, ids);
    const ran = await Promise.all(ids.map((id) => host!.api<JobView>('jobs.get', { id })));
    expect(ran.sort((x, y) => x.startedAt! - y.startedAt!).map((j) => j.params.prompt)).toEqual([b, a, d, c]);
  });

  it('clears finished jobs from the list — one, or all — and they stay cleared after a reload; the Library keeps their outputs', async () => {
    const finished = page.getByRole('region', { name: 'Finished' });
    const one = 'Red fox in fresh snow';
    // The finished rows with their outputs, as a person sees them, at both window sizes.
    await until(() => host!.api<JobView[]>('jobs.list', { states: ['queued', 'running'] }).then((l) => l.length)).toBe(0);
    await until(() => finished.locator('li.job img').evaluateAll((imgs) => imgs.length > 0 && imgs.every((i) => (i as unknown as { complete: boolean }).complete))).toBe(true);
    await page.mouse.move(0, 0);
    for (const [width, height, tag] of [[1440, 900, '1440'], [1024, 700, '1024']] as const) {
      await page.setViewportSize({ width, height });
      // The Finished heading near the top of the view, with a little room above it.
      await page.evaluate(`(() => {
        const region = document.querySelector('section[aria-label="Finished"]');
        let scroller = region && region.parentElement;
        while (scroller && !(scroller.scrollHeight > scroller.clientHeight && getComputedStyle(scroller).overflowY !== 'visible')) scroller = scroller.parentElement;
        if (region && scroller) scroller.scrollTop += region.getBoundingClientRect().top - scroller.getBoundingClientRect().top - 24;
      })()`);
      await screenshot(page, `queue-finished-${tag}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await row(finished, one).getByRole('button', { name: /^Clear “Red fox/ }).click();
    await until(() => row(finished, one).count()).toBe(0);
    const before = await finished.locator('li.job').count();
    expect(before).toBeGreaterThan(3);

    await finished.getByRole('button', { name: 'Clear finished' }).click();
    await until(() => finished.count()).toBe(0);
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await viewQueue(page);
    await page.getByText('No jobs yet').waitFor();
    expect(await page.getByRole('region', { name: 'Finished' }).count()).toBe(0);
    // Nothing was deleted: the outputs are in the Library, and each job still reads by id.
    const library = await host!.api<AssetPage>('library.query', { withTotal: true });
    expect(library.total).toBeGreaterThanOrEqual(6 + 6 + 4 * 2);
    expect(await host!.api<JobView[]>('jobs.list', {})).toEqual([]);
    expect(session!.pageErrors).toEqual([]);
  });
});

describe('Move to front after a resume', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-front-'));
    // A model's release takes 2.5 s here (a real one takes seconds), and the budget is too small to
    // keep the WAN model beside an SDXL job: starting one means waiting for the other's release.
    host = await startHost({ dataDir, args: ['--max-attempts', '1'], env: { OURVIDZ_TEST_STEP_MS: '40', OURVIDZ_TEST_UNLOAD_MS: '2500' } });
    await host.api('settings.update', { vramBudgetMb: 1024 });
    session = await launchBrowser();
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the job moved to the front first, even when the queue was paused while the last model was being released', async () => {
    const wan = await enqueue(host!, { type: 'image_fast', prompt: 'WAN still of waves', width: 480, height: 832 });
    await jobsDone(host!, [wan.id]);
    await page.goto(host!.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await viewQueue(page);

    // The scheduler starts on A at once: it has to release the WAN model first, which takes a while.
    const first = 'A: portrait in window light';
    const moved = 'B: the one wanted first';
    const a = await enqueue(host!, { prompt: first, width: 1024, height: 1024, steps: 20 });
    const b = await enqueue(host!, { prompt: moved, width: 1024, height: 1024, steps: 20 });
    const upNext = page.getByRole('region', { name: 'Up next' });
    await until(() => upNextPrompts(page)).toEqual([first, moved]);

    // Meanwhile the person pauses, moves B to the front, and resumes.
    await page.getByRole('button', { name: 'Pause queue' }).click();
    await page.getByRole('button', { name: 'Resume queue' }).waitFor();
    await row(upNext, moved).getByRole('button', { name: 'Move to front' }).click();
    await until(() => upNextPrompts(page)).toEqual([moved, first]);
    await page.getByRole('button', { name: 'Resume queue' }).click();

    // The first job the page sees running is B, with A still waiting.
    const runningPrompts = () => page.getByRole('region', { name: 'Running' }).locator('li.job .job-prompt').allTextContents();
    await until(async () => (await runningPrompts()).length).toBeGreaterThan(0);
    expect(await runningPrompts()).toEqual([moved]);
    expect(await upNextPrompts(page)).toEqual([first]);
    await jobsDone(host!, [a.id, b.id]);
    const [ja, jb] = await Promise.all([a, b].map((j) => host!.api<JobView>('jobs.get', { id: j.id })));
    expect(jb!.startedAt!).toBeLessThan(ja!.startedAt!);
    expect(session!.pageErrors).toEqual([]);
  });
});
