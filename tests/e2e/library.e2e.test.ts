/**
 * The Library end to end in a real browser: the built renderer (out/renderer) served by
 * `studio serve` with the real engine and the test-only pipeline (tests/fixtures/serve-host.ts),
 * driven in Debian's Chromium. The library is filled the way a user fills it — generations run by
 * the engine, and a folder of files from other tools imported through the Import dialog (PNGs with
 * A1111 parameters, an H.264 MP4 made with ffmpeg).
 *
 * Search, filter, open a preview, seek a video (Range requests through the server), delete and
 * undo (from the preview and from the keyboard), bulk-tag a Shift-click selection, live arrival of a
 * new job's images, the table view; screenshots of the grid and the preview (see support.ts's
 * screenshot).
 *
 * Needs `electron-vite build` first (npm test runs it) and ffmpeg on PATH.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetPage, GenerateRequest, JobView } from '../../src-preload/contract/index.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { jobsDone, launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const GENERATIONS: GenerateRequest[] = [
  { type: 'sdxl_image_fast', prompt: 'A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain', seed: 1234, steps: 4, width: 512, height: 512, count: 6 },
  { type: 'sdxl_image_high', prompt: 'Portrait of an old fisherman mending nets, soft window light', negativePrompt: 'blurry, washed out', seed: 77, steps: 5, width: 512, height: 640, count: 4 },
  { type: 'image_fast', prompt: 'Neon city street in the rain, reflections on wet asphalt, cinematic', seed: 9001, steps: 4, width: 480, height: 832, count: 1 },
  { type: 'sdxl_image_fast', prompt: 'Misty pine forest at sunrise, god rays through the canopy', seed: 42, steps: 4, width: 512, height: 512, count: 3 },
];
const GENERATED = GENERATIONS.reduce((n, g) => n + (g.count ?? 1), 0);

/** A folder as another tool leaves it: A1111 PNGs (real pictures, drawn by ffmpeg) and an MP4 with its parameters. */
function writeImportFolder(dir: string): { files: number; video: string } {
  mkdirSync(dir, { recursive: true });
  const pictures = [
    { src: 'mandelbrot=size=512x512:start_scale=1.6', prompt: 'A fractal coastline seen from orbit, teal and amber, ultra detailed', seed: 311 },
    { src: 'gradients=size=512x512:c0=0x1b2a49:c1=0xf2a65a:c2=0x7e5a9b:seed=4', prompt: 'Soft pastel gradient backdrop for a product shot', seed: 312 },
    { src: 'cellauto=size=512x512:rule=110:seed=3', prompt: 'Woven textile pattern, rule 110, monochrome', seed: 313 },
  ];
  for (const [i, p] of pictures.entries()) {
    const rgb = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', p.src, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    const parameters = `${p.prompt}\nNegative prompt: lowres, watermark\nSteps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: ${p.seed}, Size: 512x512, Model: juggernaut-xl-v9`;
    writeFileSync(path.join(dir, `a1111-${String(i).padStart(5, '0')}.png`), pilPng({ width: 512, height: 512, rgb, text: [['parameters', parameters]] }));
  }
  const video = 'A slow zoom into a glowing fractal nebula';
  execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', 'mandelbrot=size=480x832:rate=16', '-t', '3', '-pix_fmt', 'yuv420p', '-c:v', 'libx264',
    '-movflags', '+faststart', '-metadata', `comment=${video}\nSteps: 6, Sampler: unipc, CFG scale: 5, Seed: 2024, Size: 480x832, Model: wan2.1-t2v-1.3b`,
    path.join(dir, 'nebula.mp4'),
  ]);
  return { files: pictures.length + 1, video };
}

const assetCells = (page: Page) => page.locator('[data-testid="library-grid"] .cell[data-asset-id]');
const cellByPrompt = (page: Page, text: string) => page.locator('[data-testid="library-grid"] .cell[data-asset-id]', { hasText: text });
const selectedCount = (page: Page) => page.getByTestId('selection-count').textContent();
const filter = (page: Page, name: string) => page.getByRole('group', { name: 'Filters' }).getByLabel(name, { exact: true });
const toast = (page: Page, text: string | RegExp) => page.locator('.toast-message', { hasText: text });

/** Dismisses the notices and moves the pointer away, so a screenshot shows the view itself. */
async function quiet(page: Page): Promise<void> {
  // Onto the header, in two steps so the browser sees the pointer leave the grid.
  await page.mouse.move(640, 40, { steps: 2 });
  await page.mouse.move(660, 30);
  await until(() => page.locator('.toast').count()).toBe(0); // notices leave by themselves after a few seconds
  await page.waitForTimeout(250); // let hover fades finish, for the picture only
}

describe('Library, in the browser against studio serve', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let pageErrors: string[];
  let api: Host['api'];
  let importDir = '';
  let videoPrompt = '';
  const mediaStatuses: number[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-library-e2e-'));
    host = await startHost({ dataDir, args: ['--max-attempts', '1'], env: { OURVIDZ_TEST_STEP_MS: '30' } });
    api = host.api;
    // Real generations through the engine's queue and worker.
    const jobs: JobView[] = [];
    for (const request of GENERATIONS) jobs.push(await api<JobView>('jobs.enqueue', { request }));
    await jobsDone(host, jobs.map((j) => j.id));
    const made = writeImportFolder(path.join(dataDir, 'from-other-tools'));
    importDir = path.join(dataDir, 'from-other-tools');
    videoPrompt = made.video;

    session = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
    ({ page, pageErrors } = session);
    page.on('response', (r) => {
      if (r.url().includes('/studio-media/asset/')) mediaStatuses.push(r.status());
    });
  }, 180_000);

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows every generation in the grid, newest first, with thumbnails served by id', async () => {
    await page.goto(host!.openUrl);
    await page.getByRole('tab', { name: /Library/ }).click();
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
    await until(() => assetCells(page).count()).toBe(GENERATED);
    // Newest first: the job that finished last leads (high-quality jobs run after fast ones).
    const newest = (await api<AssetPage>('library.query', { limit: 1 })).items[0]!;
    expect(await assetCells(page).first().getAttribute('data-asset-id')).toBe(newest.id);
    // Thumbnails are made in the background; each cell gets its picture as they land.
    await until(() => page.locator('[data-testid="library-grid"] .cell-img').count()).toBe(GENERATED);
    await until(() =>
      page.evaluate(`[...document.querySelectorAll('[data-testid="library-grid"] .cell-img')].every((i) => i.complete && i.naturalWidth > 0)`),
    ).toBe(true);
    const src = (await page.locator('.cell-img').first().getAttribute('src'))!;
    expect(src).toMatch(/\/studio-media\/asset\/[A-Za-z0-9_-]+\/thumb\?key=/);
    expect(src).not.toContain(host!.token);
    await until(() => page.locator('.view-description').textContent()).toContain(`${GENERATED} assets`);
  });

  it('imports a folder from other tools through the Import dialog, metadata included', async () => {
    await page.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a folder' });
    await dialog.getByLabel('Folder on this machine').fill(importDir);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await page.locator('.toast-message', { hasText: /4 files imported from/ }).waitFor();
    await until(() => assetCells(page).count()).toBe(GENERATED + 4);
    await until(() => page.locator('[data-testid="library-grid"] .cell-img').count()).toBe(GENERATED + 4);
  });

  it('searches prompts and filters by kind, job type and model', async () => {
    const search = page.getByRole('searchbox', { name: 'Search prompts' });
    await search.fill('lighthouse');
    await until(() => assetCells(page).count()).toBe(6);
    expect(await cellByPrompt(page, 'lighthouse').count()).toBe(6);
    await search.fill('fractal');
    await until(() => assetCells(page).count()).toBe(2); // an imported PNG and the MP4
    await search.fill('no such words anywhere');
    await page.getByTestId('library-no-match').waitFor();
    await search.fill('');
    await until(() => assetCells(page).count()).toBe(GENERATED + 4);

    await filter(page, 'Kind').selectOption('video');
    await until(() => assetCells(page).count()).toBe(1);
    expect(await assetCells(page).first().getAttribute('title')).toBe(videoPrompt);
    await filter(page, 'Kind').selectOption('all');
    await filter(page, 'Job type').selectOption('sdxl_image_high');
    await until(() => assetCells(page).count()).toBe(4);
    await filter(page, 'Job type').selectOption('all');
    await filter(page, 'Model').selectOption('juggernaut-xl-v9');
    await until(() => assetCells(page).count()).toBe(3);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await until(() => assetCells(page).count()).toBe(GENERATED + 4);
  });

  it('opens a preview with the full image and its recipe, and steps through with the arrow keys', async () => {
    await page.locator('.view-header h1').click(); // nothing focused in the grid yet
    const fisherman = cellByPrompt(page, 'old fisherman').first();
    await fisherman.dblclick();
    const preview = page.getByTestId('library-preview');
    await preview.waitFor();
    await until(() => preview.locator('img.viewer-img:not(.viewer-img--placeholder)').evaluate((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth)).toBe(512);
    const details = preview.getByRole('complementary', { name: 'Details' });
    await details.getByText('Portrait of an old fisherman mending nets, soft window light').waitFor();
    await details.getByText('blurry, washed out').waitFor();
    const facts = await details.locator('dd').allTextContents();
    expect(facts).toEqual(expect.arrayContaining(['test-sdxl', '5', '512×640']));
    // Each image of the batch is named by the job's seed 77 and its batch index (the first by the seed alone).
    expect(facts.some((f) => /^77(, batch index [1-3])?$/.test(f))).toBe(true);
    await details.getByText('SDXL image · high').waitFor();

    const counter = preview.locator('.preview-counter');
    const before = (await counter.textContent())!;
    await page.keyboard.press('ArrowRight');
    await until(() => counter.textContent()).not.toBe(before);
    await page.keyboard.press('ArrowLeft');
    await until(() => counter.textContent()).toBe(before);

    // "Use these settings" fills the Workspace form and goes there; the Library keeps its place.
    await details.getByRole('button', { name: 'Use these settings' }).click();
    await preview.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'Workspace', level: 1 }).waitFor();
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('Portrait of an old fisherman mending nets, soft window light');
    expect(await page.getByLabel('Negative prompt').inputValue()).toBe('blurry, washed out');
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('77');
    expect(await page.getByLabel('Steps', { exact: true }).inputValue()).toBe('5');
    await page.getByRole('tab', { name: /Library/ }).click();
    await until(() => assetCells(page).count()).toBe(GENERATED + 4);
  });

  it('reads an imported file’s recipe, and rates and tags it from the preview', async () => {
    await cellByPrompt(page, 'fractal coastline').dblclick();
    const preview = page.getByTestId('library-preview');
    const details = preview.getByRole('complementary', { name: 'Details' });
    await details.getByText('Imported image').waitFor();
    const facts = await details.locator('dd').allTextContents();
    expect(facts).toEqual(expect.arrayContaining(['311', 'juggernaut-xl-v9', '28', '512×512']));
    await details.getByText('lowres, watermark').waitFor();
    await details.getByRole('radio', { name: '4 stars' }).click();
    await until(() => details.getByRole('radio', { name: '4 stars' }).getAttribute('aria-checked')).toBe('true');
    const tagInput = details.getByLabel('Add a tag');
    await tagInput.fill('portfolio');
    await tagInput.press('Enter');
    await details.getByRole('button', { name: 'Remove tag portfolio' }).waitFor();
    await until(() => preview.locator('img.viewer-img:not(.viewer-img--placeholder)').evaluate((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth)).toBe(512);
    await quiet(page);
    await screenshot(page, 'library-preview');
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
    // The grid shows the rating it was given.
    await until(() => cellByPrompt(page, 'fractal coastline').first().locator('.cell-rating').textContent()).toBe('4');
  });

  it('plays the imported MP4 and seeks it (Range requests through the server)', async () => {
    await cellByPrompt(page, 'nebula').dblclick();
    const preview = page.getByTestId('library-preview');
    const video = preview.locator('video');
    await video.waitFor();
    await until(() => video.evaluate((v: { readyState: number }) => v.readyState)).toBeGreaterThanOrEqual(2);
    const duration = await video.evaluate((v: { duration: number }) => v.duration);
    expect(duration).toBeGreaterThan(2.5);
    const landed = await video.evaluate(
      (v: HTMLMediaElementLike) =>
        new Promise<number>((resolve) => {
          v.pause();
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = 2.25;
        }),
    );
    expect(landed).toBeCloseTo(2.25, 1);
    expect(mediaStatuses).toContain(206);
    await preview.getByText('wan2.1-t2v-1.3b').waitFor();
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
  });

  it('deletes from the preview after asking, and the undo toast brings it back', async () => {
    const prompt = 'Neon city street in the rain';
    await cellByPrompt(page, prompt).dblclick();
    const preview = page.getByTestId('library-preview');
    await preview.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Move this image to the trash?' });
    await confirm.getByRole('button', { name: 'Move to trash' }).click();
    await page.getByTestId('undo-bar').getByText('1 asset moved to the trash.').waitFor();
    // The preview moves on to the next asset; the grid behind it no longer has this one.
    await until(() => cellByPrompt(page, prompt).count()).toBe(0);
    await until(() => preview.getByRole('complementary', { name: 'Details' }).textContent()).not.toContain(prompt);
    expect((await api<AssetPage>('library.query', { trashed: true, withTotal: true })).total).toBe(1);

    // Undo works from above the open preview, and leaves it open.
    await page.getByTestId('undo-bar').getByRole('button', { name: 'Undo' }).click();
    await until(() => cellByPrompt(page, prompt).count()).toBe(1);
    await page.getByTestId('undo-bar').waitFor({ state: 'detached' });
    expect(await preview.isVisible()).toBe(true);
    expect((await api<AssetPage>('library.query', { trashed: true, withTotal: true })).total).toBe(0);
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
  });

  it('moves through the grid with the keyboard: arrows, Enter opens, Delete trashes with undo, Esc clears', async () => {
    const grid = page.getByTestId('library-grid');
    await grid.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    const focusedId = await grid.evaluate((g) => g.getAttribute('aria-activedescendant'));
    const focused = page.locator(`#${focusedId}`);
    const id = (await focused.getAttribute('data-asset-id'))!;
    expect(await focused.getAttribute('data-index')).toBe('1');
    await page.keyboard.press('Enter');
    await page.getByTestId('library-preview').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('library-preview').waitFor({ state: 'detached' });

    await grid.focus();
    await page.keyboard.press('Delete');
    await page.getByTestId('undo-bar').getByText('1 asset moved to the trash.').waitFor();
    await until(() => page.locator(`[data-asset-id="${id}"]`).count()).toBe(0);
    await page.keyboard.press('Control+z');
    await until(() => page.locator(`[data-asset-id="${id}"]`).count()).toBe(1);

    await grid.focus();
    await page.keyboard.press('Space');
    await until(() => selectedCount(page)).toBe('1 asset selected');
    await page.keyboard.press('Escape');
    await page.getByTestId('selection-count').waitFor({ state: 'detached' });
  });

  it('bulk-tags a Shift-click selection, and the tag filter finds exactly those', async () => {
    const cells = assetCells(page);
    const first = cells.nth(2);
    const last = cells.nth(4);
    const ids = [
      await first.getAttribute('data-asset-id'),
      await cells.nth(3).getAttribute('data-asset-id'),
      await last.getAttribute('data-asset-id'),
    ];
    await first.click();
    await last.click({ modifiers: ['Shift'] });
    await until(() => selectedCount(page)).toBe('3 assets selected');
    await cells.nth(8).click({ modifiers: ['Control'] });
    await until(() => selectedCount(page)).toBe('4 assets selected');
    await cells.nth(8).click({ modifiers: ['Control'] });
    await until(() => selectedCount(page)).toBe('3 assets selected');
    await quiet(page);
    await screenshot(page, 'library-grid');

    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Tag…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Tag 3 assets' });
    await dialog.getByLabel('Tags', { exact: true }).fill('keeper, portfolio');
    await dialog.getByRole('button', { name: 'Add tags' }).click();
    await toast(page, /3 assets tagged “keeper”, “portfolio”/).waitFor();
    await dialog.waitFor({ state: 'detached' });

    // The same selection exported with its recipes, then moved into a new project.
    const exportDir = path.join(dataDir, 'exported');
    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Export…' }).click();
    const exporting = page.getByRole('dialog', { name: 'Export 3 assets' });
    await exporting.getByLabel('Folder on this machine').fill(exportDir);
    await exporting.getByRole('button', { name: 'Export', exact: true }).click();
    await toast(page, /3 files copied to .*exported, each with its recipe/).waitFor();
    const exported = readdirSync(exportDir);
    expect(exported.filter((f) => f.endsWith('.json'))).toHaveLength(3);
    expect(exported.filter((f) => !f.endsWith('.json'))).toHaveLength(3);

    // And once more for sharing: without generation data, which rules the recipe sidecars out.
    const strippedDir = path.join(dataDir, 'stripped');
    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Export…' }).click();
    const stripping = page.getByRole('dialog', { name: 'Export 3 assets' });
    await stripping.getByLabel('Folder on this machine').fill(strippedDir);
    await stripping.getByRole('checkbox', { name: /Strip generation data/ }).check();
    expect(await stripping.getByRole('checkbox', { name: /Also write each file’s recipe/ }).isDisabled()).toBe(true);
    await stripping.getByRole('button', { name: 'Export', exact: true }).click();
    await toast(page, /3 files copied to .*stripped, without generation data/).waitFor();
    const stripped = readdirSync(strippedDir);
    expect(stripped).toHaveLength(3);
    for (const name of stripped) {
      expect(name).not.toMatch(/\.json$/);
      const tags = JSON.parse(execFileSync('exiftool', ['-j', '-a', '-G1', path.join(strippedDir, name)], { encoding: 'utf8' }))[0] as Record<string, unknown>;
      expect(Object.keys(tags).filter((k) => /^(PNG:(Parameters|Prompt|Workflow|Ourvidz)|XMP|IFD0|ExifIFD|IPTC)/.test(k)), name).toEqual([]);
    }

    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Move to project…' }).click();
    const moving = page.getByRole('dialog', { name: 'Move 3 assets to a project' });
    await moving.getByLabel('Title of the new project').fill('Spring lookbook');
    await moving.getByRole('button', { name: 'Move', exact: true }).click();
    await toast(page, '3 assets moved to “Spring lookbook”.').waitFor();
    await filter(page, 'Project').selectOption({ label: 'Spring lookbook' });
    await until(() => assetCells(page).count()).toBe(3);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await until(() => assetCells(page).count()).toBe(GENERATED + 4);

    await page.getByRole('button', { name: 'Filter by tags' }).click();
    await page.getByRole('checkbox', { name: /keeper/ }).check();
    await page.keyboard.press('Escape');
    await until(() => assetCells(page).count()).toBe(3);
    expect((await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-asset-id')))).sort()).toEqual([...ids].sort());
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await until(() => assetCells(page).count()).toBe(GENERATED + 4);
  });

  it('keeps deleted assets in the Trash, where they can be restored', async () => {
    const grid = page.getByTestId('library-grid');
    const id = (await assetCells(page).nth(5).getAttribute('data-asset-id'))!;
    await assetCells(page).nth(5).click();
    await grid.press('Delete');
    await page.getByTestId('undo-bar').waitFor();
    await page.getByTestId('undo-bar').getByRole('button', { name: 'Dismiss' }).click();
    await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: /Trash/ }).click();
    await until(() => assetCells(page).count()).toBe(1);
    expect(await assetCells(page).first().getAttribute('data-asset-id')).toBe(id);
    await assetCells(page).first().click();
    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Restore' }).click();
    await page.getByText('The trash is empty').waitFor();
    await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: 'Library' }).click();
    await until(() => page.locator(`[data-testid="library-grid"] [data-asset-id="${id}"]`).count()).toBe(1);
  });

  it('shows a new job’s images as soon as it lands', async () => {
    await page.getByTestId('library-grid').focus();
    await page.keyboard.press('Escape');
    await api<JobView>('jobs.enqueue', { request: { type: 'sdxl_image_fast', prompt: 'A red fox asleep in fresh snow, morning light', steps: 3, width: 512, height: 512, count: 2 } });
    await until(() => cellByPrompt(page, 'red fox').count()).toBe(2);
    expect(await assetCells(page).first().getAttribute('title')).toContain('red fox');
  });

  it('lists the same assets in a sortable table', async () => {
    await page.getByRole('button', { name: 'Table' }).click();
    const table = page.getByTestId('library-table');
    await table.waitFor();
    // Windowed: the rows in view are drawn, the grid knows them all.
    expect(await table.getAttribute('aria-rowcount')).toBe(String(GENERATED + 6));
    await until(() => table.locator('.trow[data-asset-id]').count()).toBeGreaterThan(8);
    const search = page.getByRole('searchbox', { name: 'Search prompts' });
    await search.fill('lighthouse');
    await until(() => table.locator('.trow[data-asset-id]').count()).toBe(6);
    const lighthouse = table.locator('.trow[data-asset-id]').first();
    expect(await lighthouse.textContent()).toContain('test-sdxl');
    expect(await lighthouse.textContent()).toContain('512×512');
    expect(await lighthouse.locator('.tcol-seed').textContent()).toBe('1234');
    await search.fill('');
    await until(() => table.getAttribute('aria-rowcount')).toBe(String(GENERATED + 6));
    await page.getByRole('button', { name: /^Sort by prompt/ }).click();
    await until(() => table.locator('.trow-prompt-text').first().textContent()).toMatch(/^A fractal coastline/);
    await page.getByRole('button', { name: 'Grid' }).click();
    expect(pageErrors).toEqual([]);
  });
});

/** The bit of HTMLMediaElement the seek check uses (this file is type-checked without the DOM library). */
interface HTMLMediaElementLike {
  currentTime: number;
  pause(): void;
  addEventListener(type: string, listener: () => void, options?: { once: boolean }): void;
}
