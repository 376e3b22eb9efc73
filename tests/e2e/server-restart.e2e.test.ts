/**
 * A page that tells the truth when `studio serve` stops or starts again, in Chromium: while the
 * server is gone the page says it stopped and running jobs show as unknown (no frozen step count,
 * no ETA counting down to nothing); once a server answers on the same address with a new token, the
 * page says to open the new link — once, not as a toast per failed read, also after a reload — and
 * opening the new link in the same tab brings it back.
 *
 * Screenshots: server-stopped-1440.png, server-new-link-1024.png.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src-preload/contract/index.ts';
import { launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const toasts = (page: Page) => page.locator('.toast').allTextContents();

describe('studio serve stops, then starts again with a new link', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  const prompt = 'Slow render of a harbour at night, long exposure';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-restart-'));
    host = await startHost({ dataDir, env: { OURVIDZ_TEST_STEP_MS: '150' } });
    session = await launchBrowser();
    page = session.page;
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('says the server stopped and shows the running job as unknown, in the Workspace and the Queue', async () => {
    await page.goto(host!.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const workspacePrompt = page.getByLabel('Prompt', { exact: true });
    await workspacePrompt.fill(prompt);
    await page.getByLabel('Steps').fill('150');
    await workspacePrompt.press('Control+Enter');
    const card = page.locator('li.job', { hasText: prompt }).first();
    await until(() => card.getByTestId('step-text').textContent()).toMatch(/Step ([3-9]|\d\d+) of 150/);
    await until(() => card.textContent()).toMatch(/about \d+s left/);

    await host!.stop();

    // Said once, where it is seen; the card no longer counts steps or time.
    const banner = page.getByRole('alert').filter({ hasText: 'The studio server stopped.' });
    await banner.waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'Server stopped' }).count()).toBe(1);
    await until(() => card.getByTestId('job-status').textContent()).toBe('Unknown · server stopped');
    expect(await card.textContent()).not.toMatch(/left/);
    expect(await card.getByTestId('step-text').textContent()).toMatch(/^It was at step \d+ of 150 when the studio server stopped/);

    await page.getByRole('tab', { name: /Queue/ }).click();
    const row = page.getByRole('region', { name: 'Running' }).locator('li.job', { hasText: prompt });
    expect(await row.getByTestId('job-status').textContent()).toBe('Unknown · server stopped');
    expect(await row.getByRole('progressbar').count()).toBe(0);
    expect(await row.textContent()).not.toMatch(/left/);
    await screenshot(page, 'server-stopped-1440');
    expect(await toasts(page)).toEqual([]);
  });

  it('tells the tab to open the new link once a server answers with another token, also after a reload, and the new link brings it back', async () => {
    const port = new URL(host!.url).port;
    host = await startHost({ dataDir, args: ['--port', port], env: { OURVIDZ_TEST_STEP_MS: '150' } });

    const gate = page.getByRole('dialog', { name: 'The studio server was started again' });
    await gate.waitFor();
    // (The gate is modal: the rest of the page is hidden from the accessibility tree behind it.)
    expect(await page.locator('.statusbar .connection').textContent()).toBe('New link needed');
    expect(await toasts(page)).toEqual([]);

    // A reload keeps the old token (sessionStorage): the same one message, no toasts about
    // `Authorization: Bearer`.
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.reload();
    await gate.waitFor();
    await page.waitForTimeout(500);
    expect(await toasts(page)).toEqual([]);
    expect(await page.content()).not.toContain('Authorization');
    await screenshot(page, 'server-new-link-1024');

    // Something that is not the link is refused with a reason.
    await gate.getByLabel('New link').fill('http://127.0.0.1:1/');
    await gate.getByRole('button', { name: 'Open' }).click();
    await gate.getByRole('alert').filter({ hasText: '#token=' }).waitFor();

    // The new link, pasted here (the address bar does the same: only the fragment changes).
    await gate.getByLabel('New link').fill(host!.openUrl);
    await gate.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await until(() => page.url()).not.toContain('token');
    expect(await gate.count()).toBe(0);
    // The job the old server left running was put back in the queue and runs again: the page shows it.
    const job = (await host!.api<JobView[]>('jobs.list', {})).find((j) => j.params.prompt === prompt)!;
    expect(['queued', 'running']).toContain(job.status.state);
    await page.getByRole('tab', { name: /Queue/ }).click();
    await until(() => page.locator('li.job', { hasText: prompt }).getByTestId('job-status').textContent()).toMatch(/^(Queued|Running)/);
    expect(await toasts(page)).toEqual([]);
    expect(session!.pageErrors).toEqual([]);
  });

  it('also comes back when the new link is opened in the address bar of the same tab', async () => {
    const port = new URL(host!.url).port;
    await host!.stop();
    await page.getByRole('alert').filter({ hasText: 'The studio server stopped.' }).waitFor();
    host = await startHost({ dataDir, args: ['--port', port], env: { OURVIDZ_TEST_STEP_MS: '150' } });
    await page.getByRole('dialog', { name: 'The studio server was started again' }).waitFor();
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await toasts(page)).toEqual([]);
  });
});
