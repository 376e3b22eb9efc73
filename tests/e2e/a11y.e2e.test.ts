/**
 * Accessibility end to end: axe-core (tests/e2e/axe.ts) on every view and dialog of the built
 * renderer, served by `studio serve` with the real engine and the test-only pipeline, in Debian's
 * Chromium, at 1440×900 and at 1024×700 — the Workspace (with results, the lightbox, compare), the
 * Library (grid, selection, preview of an image and of a video, compare, the date and tag filters,
 * the Import dialog, the selection's Tag/Move/Export/Delete dialogs, the preview's delete
 * confirmation), the Queue and a finished job's results, Models and its Add model dialog, Settings
 * (with every check run, a refused folder and the Move… form), and the GPU details.
 * Zero violations is the bar.
 *
 * Also what the status bar and Settings promise: the GPU item opens the GPU's details (and its
 * settings from there), and Settings → Disk use has a total that is the sum of its rows, the trash
 * included and said.
 *
 * Screenshots (see support.ts's screenshot): settings-1440/-1024, gpu-details-1440/-1024,
 * settings-disk-use-1440/-1024.
 * Needs `electron-vite build` first (npm test runs it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AssetPage, JobView, LibraryStats } from '../../src-preload/contract/index.ts';
import { formatBytes } from '../../src-renderer/src/format.ts';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { axeViolations } from './axe.ts';
import { jobsDone, launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const SIZES = [
  { width: 1440, height: 900, tag: '1440' },
  { width: 1024, height: 700, tag: '1024' },
] as const;
const WS_PROMPT = 'A lantern festival over a river at night';

const cells = (page: Page) => page.locator('[data-testid="library-grid"] .cell[data-asset-id]');

/** Closes whatever layer is open (notices first: Esc closes the top one). */
async function closeLayers(page: Page): Promise<void> {
  for (const close of await page.locator('.toast-close').all()) await close.click({ timeout: 1000 }).catch(() => {});
  for (let i = 0; i < 4 && (await page.locator('[role="dialog"], [role="alertdialog"]').count()) > 0; i++) await page.keyboard.press('Escape');
}

describe('Accessibility (axe-core) on every view and dialog; the GPU item; disk use', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let pageErrors: string[];

  /** Checks the page as it is now, naming the state in the failure. */
  const check = async (state: string) => {
    await page.waitForTimeout(150); // opening animations end, so colours are measured as shown
    const found = await axeViolations(page);
    expect(found.join('\n'), `axe violations in ${state} at ${page.viewportSize()?.width}×${page.viewportSize()?.height}`).toBe('');
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-a11y-e2e-'));
    // A ready SDXL model (the test pipeline makes the pictures): the Models view has a row with its
    // actions, the Workspace a default model.
    await buildSdxlFixture(path.join(dataDir, 'models', 'studio-xl'), { precision: 'fp16' });
    host = await startHost({ dataDir, args: ['--max-attempts', '1'], env: { OURVIDZ_TEST_STEP_MS: '5' } });
    const jobs = [
      await host.api<JobView>('jobs.enqueue', { request: { type: 'video_fast', prompt: 'A kite over dunes', seed: 3, steps: 2, width: 256, height: 256, frames: 17 } }),
      await host.api<JobView>('jobs.enqueue', { request: { type: 'sdxl_image_fast', prompt: 'Foggy harbour with fishing boats', seed: 8, steps: 2, width: 512, height: 512, count: 6 } }),
    ];
    await jobsDone(host, jobs.map((j) => j.id));
    // Two in the trash, so the disk use has a trash to count.
    const harbour = await host.api<AssetPage>('library.query', { search: 'harbour', limit: 2 });
    await host.api('library.trash', { ids: harbour.items.map((a) => a.id) });

    session = await launchBrowser();
    ({ page, pageErrors } = session);
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  }, 180_000);

  afterEach(async () => {
    await closeLayers(page);
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('has no violations in the Workspace: the form, a finished batch, the lightbox and compare', { timeout: 120_000 }, async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill(WS_PROMPT);
    await page.getByRole('textbox', { name: 'Steps' }).fill('2');
    await page.getByRole('textbox', { name: 'Width' }).fill('512');
    await page.getByRole('textbox', { name: 'Height' }).fill('512');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const card = page.getByRole('region', { name: 'Submitted from here' }).locator('li.job', { hasText: WS_PROMPT });
    await until(() => card.getByTestId('job-status').textContent()).toBe('Done · 6 images');
    await until(() => card.getByTestId('result').locator('img').count()).toBe(6);

    for (const size of SIZES) {
      await page.setViewportSize(size);
      await closeLayers(page);
      await check('the Workspace');
      await card.getByRole('button', { name: 'Enlarge image 2 of 6' }).click();
      await page.getByRole('dialog', { name: 'Image 2 of 6' }).waitFor();
      await check('the Workspace lightbox');
      await page.keyboard.press('Escape');
      await card.getByRole('button', { name: 'Select image 1' }).click();
      await card.getByRole('button', { name: 'Select image 4' }).click();
      await card.getByRole('button', { name: 'Compare' }).click();
      const compare = page.getByRole('dialog', { name: 'Image 1 and image 4' });
      await compare.waitFor();
      await check('Workspace compare (slider)');
      await compare.getByRole('button', { name: 'Side by side' }).click();
      await check('Workspace compare (side by side)');
      await compare.getByRole('button', { name: 'Difference' }).click();
      await check('Workspace compare (difference)');
      await page.keyboard.press('Escape');
      await card.getByRole('button', { name: 'Clear' }).click();
    }
  });

  it('has no violations in the Library: grid, selection and its dialogs, preview and its delete confirmation, compare, filters and the Import dialog', { timeout: 120_000 }, async () => {
    await page.getByRole('tab', { name: /Library/ }).click();
    await until(() => cells(page).count()).toBe(11);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.locator('.view-header h1').click();
      await check('the Library grid');
      await cells(page).nth(1).click();
      await cells(page).nth(2).click({ modifiers: ['Control'] });
      await page.getByRole('toolbar', { name: 'Selection' }).waitFor();
      await check('the Library with a selection');
      await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Compare' }).click();
      await page.getByRole('dialog', { name: 'Compare two images' }).waitFor();
      await check('Library compare');
      await page.keyboard.press('Escape');
      // The selection's own dialogs: Tag…, Move to project…, Export…, Delete.
      for (const [button, name] of [
        [/^Tag/, /^Tag /],
        [/^Move to project/, /project/i],
        [/^Export/, /^Export /],
        [/^(Delete|Move to the trash)$/, /trash/i],
      ] as const) {
        await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: button }).click();
        const layer = page.locator('[role="dialog"], [role="alertdialog"]').filter({ hasText: name });
        await layer.first().waitFor();
        await check(`the selection's ${button} dialog`);
        await page.keyboard.press('Escape');
        await until(() => page.locator('[role="dialog"], [role="alertdialog"]').count()).toBe(0);
      }
      await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Clear' }).click();

      await cells(page).nth(1).dblclick();
      await page.getByTestId('library-preview').waitFor();
      await check('the Library preview (an image)');
      // Its Delete… asks first.
      await page.getByTestId('library-preview').getByRole('button', { name: 'Delete…' }).click();
      await page.getByRole('alertdialog').waitFor();
      await check('the preview\'s delete confirmation');
      await page.keyboard.press('Escape');
      await until(() => page.getByRole('alertdialog').count()).toBe(0);
      await page.keyboard.press('Escape');
      await page.locator('[data-testid="library-grid"] .cell[data-asset-id]', { hasText: 'kite' }).dblclick();
      await page.getByTestId('library-preview').locator('video').waitFor();
      await check('the Library preview (a video)');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');

      await page.getByRole('button', { name: 'Any date' }).click();
      await page.getByRole('dialog', { name: 'Filter by date' }).waitFor();
      await check('the date filter');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Filter by tags' }).click();
      await page.getByRole('dialog', { name: 'Filter by tags' }).waitFor();
      await check('the tag filter');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Import…' }).click();
      await page.getByRole('dialog', { name: 'Import a folder' }).waitFor();
      await check('the Import dialog');
      await page.keyboard.press('Escape');
      await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: /Trash/ }).click();
      await until(() => cells(page).count()).toBe(2);
      await check('the Trash');
      await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: 'Library' }).click();
      await until(() => cells(page).count()).toBe(11);
    }
  });

  it('has no violations in the Queue and a finished job’s results, Models (and Add model), Settings with its checks and forms, and the GPU details', { timeout: 120_000 }, async () => {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.getByRole('tab', { name: /Queue/ }).click();
      await page.getByRole('heading', { name: 'Queue', level: 1 }).waitFor();
      await check('the Queue');
      // A finished job's results, opened from its row.
      await page.getByRole('region', { name: 'Finished' }).getByRole('button', { name: /^Open the 6 images of/ }).first().click();
      const results = page.getByRole('dialog', { name: /^SDXL image · fast · 6 images/ });
      await results.waitFor();
      await until(() => results.getByTestId('result').count()).toBe(6);
      await check('the Queue\'s results dialog');
      await page.keyboard.press('Escape');
      await results.waitFor({ state: 'detached' });
      await page.getByRole('tab', { name: /Models/ }).click();
      await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
      await check('Models');
      await page.getByRole('button', { name: 'Add model…' }).first().click();
      await page.getByRole('dialog', { name: 'Add model' }).waitFor();
      await check('the Add model dialog');
      await page.keyboard.press('Escape');
      await page.getByRole('tab', { name: /Settings/ }).click();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await page.getByRole('table', { name: 'Disk use per bucket' }).waitFor();
      await check('Settings');
      await page.mouse.move(2, 2);
      await screenshot(page, `settings-${size.tag}`);
      // Its sections' states: every check's results, a refused model folder, the library's Move… form.
      await page.getByRole('button', { name: 'Check everything' }).click();
      await page.getByRole('list', { name: 'GPU check' }).waitFor();
      await until(() => page.getByRole('button', { name: 'Check everything' }).isEnabled()).toBe(true);
      const folder = page.getByLabel('Model folder to add');
      await folder.fill(path.join(dataDir, 'unplugged-drive'));
      await folder.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'this folder does not exist' }).waitFor();
      await page.getByRole('button', { name: 'Move…' }).click();
      await page.getByLabel('Move the library to').waitFor();
      await check('Settings with every check run, a refused folder and the Move… form');
      await folder.fill('');
      await page.reload();
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      await page.getByRole('tab', { name: /Settings/ }).click();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await page.getByTestId('gpu-status').click();
      await page.getByRole('dialog', { name: 'GPU details' }).waitFor();
      await check('the GPU details');
      await page.keyboard.press('Escape');
    }
    expect(pageErrors).toEqual([]);
  });

  it('opens the GPU details from the status bar, and its settings from there', async () => {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.getByRole('tab', { name: /Workspace/ }).click();
      const item = page.getByTestId('gpu-status');
      // Its name is what it shows (for speech input: "click GPU").
      expect(await item.getAttribute('aria-label')).toBeNull();
      await item.click();
      const details = page.getByRole('dialog', { name: 'GPU details' });
      await details.waitFor();
      expect(await item.getAttribute('aria-expanded')).toBe('true');
      const gpu = await host!.api<{ memoryTotalMb: number; budgetMb: number }>('gpu.status');
      expect(await details.textContent()).toContain('Budget');
      expect(await details.getByTestId('gpu-details-memory').textContent()).toMatch(/VRAM|used|not measured|GB|MB/);
      expect(await details.textContent()).toContain('Loaded models');
      expect(gpu.budgetMb).toBeGreaterThan(0);
      await page.mouse.move(2, 2);
      await screenshot(page, `gpu-details-${size.tag}`);
      // Esc closes it and gives focus back to the item.
      await page.keyboard.press('Escape');
      await details.waitFor({ state: 'detached' });
      await until(() => page.evaluate(`document.activeElement && document.activeElement.getAttribute('data-testid')`)).toBe('gpu-status');
      // From the details to the GPU settings.
      await page.keyboard.press('Enter');
      await details.waitFor();
      await details.getByRole('button', { name: 'GPU settings…' }).click();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await until(() => page.getByRole('heading', { name: 'GPU & providers' }).evaluate((h) => {
        const r = (h as unknown as { getBoundingClientRect(): { top: number; bottom: number } }).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= (globalThis as unknown as { innerHeight: number }).innerHeight;
      })).toBe(true);
    }
  });

  it('adds up Settings → Disk use: the total is the sum of its rows, with the trash among them and said', async () => {
    const stats = await host!.api<LibraryStats>('library.stats');
    expect(stats.trashed).toBe(2);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.getByRole('tab', { name: /Settings/ }).click();
      const table = page.getByRole('table', { name: 'Disk use per bucket' });
      await table.waitFor();
      const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      const total = await table.locator('tr.usage-total').evaluate((tr) => [...tr.children].map((td) => td.textContent));
      const files = rows.reduce((n, r) => n + Number(r[1]), 0);
      expect(Number(total[1])).toBe(files);
      expect(files).toBe(stats.assets + stats.trashed);
      const bytes = stats.buckets.reduce((n, b) => n + b.bytes, 0);
      expect(total[2]).toBe(formatBytes(bytes));
      expect(bytes).toBe(stats.totalBytes);
      // The trash's share is said under the total.
      expect(await table.locator('tr.usage-trash').evaluate((tr) => [...tr.children].map((td) => td.textContent))).toEqual([
        'of which in the trash',
        String(stats.trashed),
        formatBytes(stats.trashedBytes),
      ]);
      await table.scrollIntoViewIfNeeded();
      await page.mouse.move(2, 2);
      await screenshot(page, `settings-disk-use-${size.tag}`);
    }
  });
});
