/**
 * End to end in a real browser: the built renderer (out/renderer), served by `studio serve` with the
 * real engine and the test-only pipeline (tests/fixtures/serve-host.ts), driven in Debian's Chromium.
 *
 * A job submitted from the Workspace is followed live in the Queue: queued (with its place in line)
 * → running (step x of y, progress bar) → done (with its image count). Another is cancelled while
 * queued, one fails and shows why, and one is cancelled while running. Screenshots (see
 * support.ts's screenshot): queue-workspace-paused.png (the Workspace holding two jobs while the
 * queue is paused) and queue.png (the Queue with a job running).
 *
 * Needs `electron-vite build` first (npm test runs it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, recordStatuses, recordedStatuses, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

/** A job's row in the Queue (or the Workspace's "Submitted from here" list), found by its prompt. */
const row = (scope: Page | Locator, prompt: string) => scope.locator('li.job', { hasText: prompt });
const statusOf = (r: Locator) => r.getByTestId('job-status');

describe('Queue, live in the browser against studio serve', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-'));
    host = await startHost({
      dataDir,
      args: ['--max-attempts', '1'],
      // Steps long enough that a person (and this test) sees each one, short enough to finish quickly.
      env: { OURVIDZ_TEST_STEP_MS: '150' },
    });
    session = await launchBrowser();
    ({ browser, page, pageErrors } = session);
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('opens from the printed link and takes the token out of the address bar', async () => {
    await page.goto(host!.openUrl);
    await until(() => page.url()).not.toContain('token');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    // The status bar shows the engine's GPU figures and the queue.
    await page.getByTestId('gpu-budget').waitFor();
    await until(() => page.getByTestId('queue-status').textContent()).toContain('0 running · 0 queued');

    // The sections are tabs: arrow keys move between them (one key at a time, as a person presses).
    await page.getByRole('tab', { name: /Workspace/ }).focus();
    for (const [key, view] of [['ArrowDown', 'Library'], ['ArrowDown', 'Queue'], ['ArrowDown', 'Models'], ['ArrowUp', 'Queue']]) {
      await page.keyboard.press(key!);
      await page.getByRole('heading', { name: view, level: 1 }).waitFor();
    }
  });

  it('explains how to get in when opened without the token', async () => {
    const context = await browser.newContext();
    const bare = await context.newPage();
    await bare.goto(new URL(host!.openUrl).origin);
    await bare.getByRole('heading', { name: 'Open the studio from its link' }).waitFor();
    expect(await bare.getByRole('tab').count()).toBe(0);
    await context.close();
  });

  it('follows a Workspace job from queued to running to done, and cancels another while it waits', async () => {
    const first = 'A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain';
    const second = 'Portrait of an old fisherman mending nets, soft window light';

    // Hold the queue so the first job is seen waiting.
    await page.getByRole('tab', { name: /Queue/ }).click();
    await page.getByRole('button', { name: 'Pause queue' }).click();
    await page.getByText('Queue paused.').waitFor();
    expect(await page.getByTestId('queue-status').textContent()).toContain('Queue paused');

    await page.getByRole('tab', { name: /Workspace/ }).click();
    const prompt = page.getByLabel('Prompt', { exact: true });
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    await prompt.fill(first);
    await page.getByLabel('Negative prompt').fill('blurry, washed out, text');
    await page.getByLabel('Seed').fill('1234');
    await page.getByLabel('Steps').fill('4');
    await prompt.press('Control+Enter');
    const submitted = page.getByRole('region', { name: 'Submitted from here' });
    await until(() => statusOf(row(submitted, first)).textContent()).toBe('Queued · #1');

    await prompt.fill(second);
    await page.getByLabel('Negative prompt').fill('');
    await page.getByLabel('Seed').fill('');
    await page.getByRole('button', { name: 'Generate' }).click();
    await until(() => statusOf(row(submitted, second)).textContent()).toBe('Queued · #2');
    await screenshot(page, 'queue-workspace-paused');

    await page.getByRole('tab', { name: /Queue/ }).click();
    const upNext = page.getByRole('region', { name: 'Up next' });
    const firstRow = row(upNext, first);
    await until(() => statusOf(firstRow).textContent()).toBe('Queued · #1');
    await until(() => statusOf(row(upNext, second)).textContent()).toBe('Queued · #2');
    expect(await firstRow.textContent()).toContain('seed 1234');
    expect(await firstRow.textContent()).toContain('4 steps');

    // Cancel the second while it waits; it moves to Finished and can be retried.
    await row(upNext, second).getByRole('button', { name: 'Cancel' }).click();
    const finished = page.getByRole('region', { name: 'Finished' });
    await until(() => statusOf(row(finished, second)).textContent()).toBe('Cancelled');
    await row(finished, second).getByRole('button', { name: 'Retry' }).waitFor();
    expect(await row(upNext, second).count()).toBe(0);

    // Resume, and watch the first job run to the end.
    const jobId = (await firstRow.getAttribute('data-job-id'))!;
    await recordStatuses(page, `.queue-section li.job[data-job-id="${jobId}"] [data-testid="job-status"]`);
    await page.getByRole('button', { name: 'Resume queue' }).click();
    await until(() => statusOf(row(finished, first)).textContent()).toBe('Done · 6 images');

    const seen = await recordedStatuses(page);
    const runningSteps = seen.filter((s) => /^Running · step \d of 4$/.test(s));
    expect(seen[0]).toBe('Queued · #1');
    expect(runningSteps.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe('Done · 6 images');
    expect(seen.indexOf(runningSteps[0]!)).toBeGreaterThan(0);
    await until(() => page.getByTestId('queue-status').textContent()).toContain('0 running · 0 queued');
  });

  it('shows why a job failed, and cancels a running job so the next one starts', async () => {
    const failing = 'Harbour at night [fail]';
    const long = 'Neon city street in the rain, reflections on wet asphalt, cinematic';
    await page.getByRole('tab', { name: /Workspace/ }).click();
    const prompt = page.getByLabel('Prompt', { exact: true });
    await page.getByLabel('Steps').fill('4');
    await prompt.fill(failing);
    await prompt.press('Control+Enter');
    await page.getByLabel('Steps').fill('60');
    await prompt.fill(long);
    await prompt.press('Control+Enter');
    const waiting = 'Misty pine forest at sunrise, god rays';
    await page.getByLabel('Steps').fill('4');
    await prompt.fill(waiting);
    await prompt.press('Control+Enter');

    await page.getByRole('tab', { name: /Queue/ }).click();
    const finished = page.getByRole('region', { name: 'Finished' });
    await until(() => statusOf(row(finished, failing)).textContent()).toBe('Failed');
    expect(await row(finished, failing).locator('.job-error').textContent()).toContain('told to fail');
    await row(finished, failing).getByRole('button', { name: 'Retry' }).waitFor();

    const running = row(page.getByRole('region', { name: 'Running' }), long);
    await until(() => statusOf(running).textContent()).toMatch(/^Running · step ([3-9]|\d\d) of 60$/);
    await running.getByRole('progressbar').waitFor();
    await page.mouse.move(0, 0);
    await screenshot(page, 'queue');

    await running.getByRole('button', { name: 'Cancel' }).click();
    await until(() => statusOf(row(finished, long)).textContent()).toBe('Cancelled');
    await until(() => statusOf(row(finished, waiting)).textContent()).toBe('Done · 6 images');
    expect(pageErrors).toEqual([]);
  });
});
