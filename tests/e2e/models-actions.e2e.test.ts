/**
 * The Models view's row actions end to end in a real browser (the built renderer served by `studio
 * serve` with the real engine and the real SDXL pipeline on two tiny SDXL models, in Debian's
 * Chromium): Make default (and a job that names no model runs on it), Copy path (a browser cannot
 * open the file manager; the app's Show in folder is the same channel), Remove from list (not
 * offered in the Workspace any more, its files untouched, a job naming none never picks it) and Put
 * back; with every ready SDXL model removed, the Workspace says so before Generate and leads to
 * Models. axe-core on the view, its removed rows and the Add model dialog, at 1440×900 and 1024×700.
 *
 * Screenshots (see support.ts's screenshot): models-list-1440/-1024 (the list with its default and
 * actions), models-add-1440/-1024 (Add model… with a checkpoint found).
 * Needs `electron-vite build` first (npm test runs it).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, ModelInfo } from '../../src-preload/contract/index.ts';
import { writeTinySdxlSingleFile } from '../fixtures/checkpoints/sdxl-single-file.ts';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { axeViolations } from './axe.ts';
import { launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const SIZES = [
  { width: 1440, height: 900, tag: '1440' },
  { width: 1024, height: 700, tag: '1024' },
] as const;
const PROMPT = 'A red umbrella on a rainy pier';

describe('Models: make default, copy path, remove from list and put back', () => {
  let root = '';
  let host: Host;
  let session: BrowserSession;
  let page: Page;
  let checkpoint = '';

  const row = (id: string) => page.locator(`tr[data-model-id="${id}"]`);
  const defaults = async () => (await host.api<ModelInfo[]>('models.list')).filter((m) => m.isDefault).map((m) => m.id);
  const picker = () => page.getByLabel('Model', { exact: true });
  const openView = async (name: 'Models' | 'Workspace') => {
    await page.getByRole('tab', { name: new RegExp(name) }).click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
  };
  const closeNotices = async () => {
    for (const close of await page.locator('.toast-close').all()) await close.click({ timeout: 1000 }).catch(() => {});
    await until(() => page.locator('.toast').count()).toBe(0);
  };
  const check = async (state: string) => {
    await page.waitForTimeout(150);
    expect((await axeViolations(page)).join('\n'), `axe violations in ${state} at ${page.viewportSize()?.width}`).toBe('');
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ourvidz-models-actions-'));
    await buildSdxlFixture(path.join(root, 'data', 'models', 'harbor-xl'), { precision: 'fp32' });
    await buildSdxlFixture(path.join(root, 'data', 'models', 'lantern-xl'), { precision: 'fp16' });
    checkpoint = path.join(root, 'Downloads', 'juniperXL_v2.safetensors');
    await mkdir(path.dirname(checkpoint), { recursive: true });
    await writeTinySdxlSingleFile(checkpoint, { dtype: 'F16', withVae: true, extras: true });
    host = await startHost({ dataDir: path.join(root, 'data'), args: ['--max-attempts', '1', '--real-sdxl'] });
    session = await launchBrowser();
    page = session.page;
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await page.setViewportSize(SIZES[0]);
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  }, 120_000);

  afterEach(async () => {
    for (let i = 0; i < 3 && (await page.getByRole('dialog').count()) > 0; i++) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('makes a model the default: the row says so, the picker offers it, and a job naming no model runs on it', { timeout: 180_000 }, async () => {
    await openView('Models');
    await until(() => row('harbor-xl').getByTestId('model-default').count()).toBe(1);
    expect(await row('lantern-xl').getByTestId('model-default').count()).toBe(0);
    expect(await defaults()).toEqual(['harbor-xl']);
    await check('Models');

    await row('lantern-xl').getByRole('button', { name: 'Make default: lantern-xl' }).click();
    await until(() => row('lantern-xl').getByTestId('model-default').count()).toBe(1);
    expect(await row('harbor-xl').getByTestId('model-default').count()).toBe(0);
    expect(await row('lantern-xl').getByRole('button', { name: /Make default/ }).count()).toBe(0);
    expect(await defaults()).toEqual(['lantern-xl']);
    // The choice is the engine's (model-choices.json), not this window's.
    expect(JSON.parse(await readFile(path.join(root, 'data', 'model-choices.json'), 'utf8'))).toMatchObject({ defaults: { sdxl: 'lantern-xl' } });
    await closeNotices();

    await openView('Workspace');
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    await picker().selectOption('');
    expect(await picker().locator('option').first().textContent()).toBe('Default: lantern-xl · fp16');
    expect(await page.getByTestId('model-details').textContent()).toMatch(/^The default chosen in Models · fp16 · /);
    await page.getByLabel('Prompt', { exact: true }).fill(PROMPT);
    await page.getByRole('textbox', { name: 'Steps' }).fill('2');
    await page.getByRole('textbox', { name: 'Images' }).fill('1');
    await page.getByRole('radio', { name: /1024×1024/ }).click();
    await page.getByRole('textbox', { name: 'Width' }).fill('256');
    await page.getByRole('textbox', { name: 'Height' }).fill('256');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const card = page.getByRole('region', { name: 'Submitted from here' }).locator('li.job', { hasText: PROMPT });
    await card.waitFor();
    const id = await card.getAttribute('data-job-id');
    await expect
      .poll(async () => (await host.api<JobView>('jobs.get', { id })).status.state, { timeout: 150_000, interval: 250 })
      .toMatch(/^(done|failed|cancelled)$/);
    const job = await host.api<JobView>('jobs.get', { id });
    expect(job.status.state).toBe('done');
    expect(job.params.model ?? null).toBeNull();
    expect(job.modelId).toBe('lantern-xl');
  });

  it('copies a model’s path in the browser, where the file manager cannot be opened', async () => {
    await openView('Models');
    const harbor = (await host.api<ModelInfo[]>('models.list')).find((m) => m.id === 'harbor-xl')!;
    expect(await host.api('models.reveal', { id: 'harbor-xl' })).toEqual({ revealed: false, path: harbor.path });
    await row('harbor-xl').getByRole('button', { name: 'Copy the path of harbor-xl' }).click();
    await until(() => page.evaluate('navigator.clipboard.readText()')).toBe(harbor.path);
    await until(() => page.locator('.toast').textContent()).toContain('a browser cannot open your file manager');
    await closeNotices();
  });

  it('removes a model from the list: not offered, its files kept, never picked for a job naming none; Put back returns it', async () => {
    await openView('Models');
    const lantern = (await host.api<ModelInfo[]>('models.list')).find((m) => m.id === 'lantern-xl')!;
    await row('lantern-xl').getByRole('button', { name: 'Remove lantern-xl from the list' }).click();
    await until(() => row('lantern-xl').count()).toBe(0);
    expect(existsSync(lantern.path)).toBe(true);
    expect(await page.locator('.models-removed').textContent()).toBe('1 model is removed from the list (their files are untouched). Show removed');
    // The default goes back to the first ready model still listed.
    expect(await defaults()).toEqual(['harbor-xl']);
    await until(() => row('harbor-xl').getByTestId('model-default').count()).toBe(1);
    await closeNotices();

    await openView('Workspace');
    await until(() => picker().locator('option').allTextContents()).toEqual(['Default: harbor-xl · fp32', 'harbor-xl · fp32']);

    // Shown again on request, marked, and put back from there.
    await openView('Models');
    await page.getByRole('button', { name: 'Show removed' }).click();
    await until(() => row('lantern-xl').locator('.model-tag--removed').count()).toBe(1);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await check('Models with the removed rows shown');
    }
    await page.setViewportSize(SIZES[0]);
    await row('lantern-xl').getByRole('button', { name: 'Put back: lantern-xl' }).click();
    await until(() => row('lantern-xl').locator('.model-tag--removed').count()).toBe(0);
    // Its place as the chosen default comes back with it.
    await until(() => row('lantern-xl').getByTestId('model-default').count()).toBe(1);
    expect(await defaults()).toEqual(['lantern-xl']);
    await page.getByRole('button', { name: 'Hide removed' }).click();
    await until(() => page.locator('.models-removed').count()).toBe(0);
    await closeNotices();
  });

  it('says before Generate when every ready SDXL model was removed, and leads to Models', async () => {
    for (const id of ['harbor-xl', 'lantern-xl']) await host.api('models.setHidden', { id, hidden: true });
    await openView('Workspace');
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    const note = page.locator('.ws-model-missing');
    await until(() => note.textContent()).toBe('Every ready SDXL model was removed from the list, so jobs of this type would fail. Put one back in Models (Show removed). Open Models');
    expect(await page.getByRole('button', { name: 'Generate', exact: true }).getAttribute('aria-describedby')).toContain(await note.getAttribute('id'));
    await note.getByRole('button', { name: 'Open Models' }).click();
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    expect(await page.locator('.models-removed').textContent()).toContain('2 models are removed from the list');
    for (const id of ['harbor-xl', 'lantern-xl']) await host.api('models.setHidden', { id, hidden: false });
    await until(() => row('harbor-xl').count()).toBe(1);
    await closeNotices();
  });

  it('has no axe violations in Models and its Add model dialog at both sizes, and photographs them', async () => {
    await openView('Models');
    await until(() => row('lantern-xl').count()).toBe(1);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.mouse.move(0, 0);
      await check('Models');
      await page.evaluate('document.activeElement && document.activeElement.blur()');
      await screenshot(page, `models-list-${size.tag}`);
      await page.getByRole('button', { name: 'Add model…' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Add model' });
      await dialog.waitFor();
      await dialog.getByLabel('Checkpoint file or diffusers folder').fill(checkpoint);
      await until(() => dialog.textContent()).toContain('SDXL checkpoint, fp16');
      await check('the Add model dialog');
      await page.mouse.move(0, 0);
      await screenshot(page, `models-add-${size.tag}`);
      await page.keyboard.press('Escape');
      await until(() => dialog.count()).toBe(0);
    }
    expect(session.pageErrors).toEqual([]);
  });
});
