/**
 * The viewers end to end in a real browser (the built renderer served by `studio serve` with the
 * real engine and the test-only pipeline, driven in Debian's Chromium), at the two window sizes a
 * creator meets: 1440×900 and 1024×700.
 *
 * The Library's preview fits a 512×1024 picture in the room beside the details (never over their
 * buttons) and zooms (+ − 1:1 Fit, the wheel about the pointer) and pans; the grid never moves
 * when a tile is selected, so a double-click opens the tile double-clicked; closing the preview
 * gives the grid keyboard focus back on the asset shown last; the details say each figure of a run
 * in its own unit; Download names a file after the name it was imported with, or the prompt's
 * words and the seed. Two images compare with a slider, side by side and as a difference, each
 * labelled with its own seed (batch seed and batch index) — in the Library and in the Workspace,
 * whose lightbox fits and zooms the same way and whose "Copy seed" copies what makes that image
 * alone.
 *
 * Screenshots (see support.ts's screenshot): library-grid-1440/-1024, library-preview-1440/-1024, library-selection-1024,
 * library-compare-1440/-1024, workspace-lightbox-1440/-1024, workspace-compare-1440/-1024.
 * Needs `electron-vite build` first (npm test runs it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AssetPage, AssetView, GenerateRequest, ImportReport, JobView } from '../../src-preload/contract/index.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { jobsDone, launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const TALL = 'Tall lighthouse poster, portrait, dramatic sky';
const SQUARE = 'Misty pine forest at sunrise, god rays';
const CLIP = 'A paper boat drifting on a puddle';
const WS_PROMPT = 'A glass greenhouse at dusk, warm lamps, long exposure';
const SIZES = [
  { width: 1440, height: 900, tag: '1440' },
  { width: 1024, height: 700, tag: '1024' },
] as const;

const GENERATIONS: GenerateRequest[] = [
  { type: 'video_fast', prompt: CLIP, seed: 5, steps: 2, width: 256, height: 256, frames: 17 },
  { type: 'sdxl_image_fast', prompt: SQUARE, seed: 42, steps: 2, width: 512, height: 512, count: 6 },
  { type: 'sdxl_image_fast', prompt: TALL, seed: 1234, steps: 2, width: 512, height: 1024, count: 6 },
];

interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const rectOf = async (l: Locator): Promise<Rect> => {
  const box = await l.boundingBox();
  if (!box) throw new Error('not on screen');
  return box;
};
const inside = (inner: Rect, outer: Rect, slack = 1) =>
  inner.x >= outer.x - slack && inner.y >= outer.y - slack && inner.x + inner.width <= outer.x + outer.width + slack && inner.y + inner.height <= outer.y + outer.height + slack;

const grid = (page: Page) => page.getByTestId('library-grid');
const cells = (page: Page) => page.locator('[data-testid="library-grid"] .cell[data-asset-id]');
const cellsOf = (page: Page, prompt: string) => page.locator('[data-testid="library-grid"] .cell[data-asset-id]', { hasText: prompt });
const preview = (page: Page) => page.getByTestId('library-preview');
const shownImage = (scope: Locator) => scope.locator('img.viewer-img:not(.viewer-img--placeholder)');
const loaded = (img: Locator) => img.evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).complete && (i as unknown as { naturalWidth: number }).naturalWidth > 0);
/** The id of the asset the preview shows (its Download link names it). */
const previewedId = async (page: Page) => {
  const href = (await preview(page).getByRole('link', { name: 'Download' }).getAttribute('href'))!;
  return decodeURIComponent(/\/asset\/([^/]+)\/original/.exec(href)![1]!);
};
const active = (page: Page) =>
  page.evaluate(`(() => { const a = document.activeElement; return a ? { testid: a.getAttribute('data-testid'), descendant: a.getAttribute('aria-activedescendant'), label: a.getAttribute('aria-label'), text: a.textContent.trim().slice(0, 60) } : null; })()`) as Promise<{
    testid: string | null;
    descendant: string | null;
    label: string | null;
    text: string;
  } | null>;

/** Closes the notices (a notice is the top layer: Esc would close it before the dialog under it). */
async function closeNotices(page: Page): Promise<void> {
  await until(async () => {
    for (const close of await page.locator('.toast-close').all()) await close.click({ timeout: 1000 }).catch(() => {});
    return page.locator('.toast').count();
  }).toBe(0);
}

/** Dismisses the notices and moves the pointer out of the way, for a screenshot. */
async function quiet(page: Page): Promise<void> {
  await page.mouse.move(2, 2);
  for (const close of await page.locator('.toast-close').all()) await close.click().catch(() => {});
  await until(() => page.locator('.toast').count()).toBe(0);
  await page.waitForTimeout(200);
}

describe('Viewers: fit, zoom and compare; the Library grid, focus and details', () => {
  let dataDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let pageErrors: string[];
  let api: Host['api'];
  let tall: AssetView[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-viewer-e2e-'));
    host = await startHost({ dataDir, args: ['--max-attempts', '1'], env: { OURVIDZ_TEST_STEP_MS: '5' } });
    api = host.api;
    const jobs: JobView[] = [];
    for (const request of GENERATIONS) jobs.push(await api<JobView>('jobs.enqueue', { request }));
    await jobsDone(host, jobs.map((j) => j.id));
    // A picture from another tool, imported under the name it had.
    const folder = path.join(dataDir, 'from-a-camera');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'holiday-snapshot.png'), pilPng({ width: 320, height: 240, seed: 9, text: [['parameters', 'A beach at noon\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 77, Size: 320x240']] }));
    expect((await api<ImportReport>('library.import', { dir: folder })).imported).toHaveLength(1);
    tall = (await api<AssetPage>('library.query', { search: 'Tall lighthouse', limit: 50 })).items.slice().sort((a, b) => a.batchIndex! - b.batchIndex!);
    expect(tall.map((a) => [a.seed, a.batchIndex])).toEqual([0, 1, 2, 3, 4, 5].map((k) => [1234, k]));

    session = await launchBrowser();
    ({ page, pageErrors } = session);
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByRole('tab', { name: /Library/ }).click();
  }, 180_000);

  // A failed step must not leave a dialog over the next test's page.
  afterEach(async () => {
    for (let i = 0; i < 4 && (await page.getByRole('dialog').count()) > 0; i++) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('fits a 512×1024 picture in the room beside the details at 1440×900 and 1024×700, never over their buttons', async () => {
    await until(() => cells(page).count()).toBe(14);
    await until(() => page.locator('[data-testid="library-grid"] .cell-img').count()).toBe(14);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await cellsOf(page, TALL).first().dblclick();
      const dialog = preview(page);
      const img = shownImage(dialog);
      await until(() => loaded(img)).toBe(true);
      await until(() => dialog.getByTestId('image-viewer').getAttribute('data-fit')).toBe('true');
      const stage = await rectOf(dialog.locator('.preview-stage'));
      const details = await rectOf(dialog.getByRole('complementary', { name: 'Details' }));
      const picture = await rectOf(img);
      // Fitted: the whole picture, at its proportions, inside the stage and left of the details.
      expect(inside(picture, stage), `picture ${JSON.stringify(picture)} outside the stage ${JSON.stringify(stage)} at ${size.tag}`).toBe(true);
      expect(picture.x + picture.width).toBeLessThanOrEqual(details.x + 1);
      expect(picture.width / picture.height).toBeCloseTo(0.5, 2);
      // As large as the room allows (its height, here), and said as a percentage under 100.
      expect(picture.height).toBeGreaterThan(stage.height * 0.75);
      expect(Number((await dialog.getByTestId('zoom-level').textContent())!.replace('%', ''))).toBeLessThan(100);
      // Every button of the details can be pressed where it is drawn: nothing lies over it.
      for (const button of await dialog.locator('.meta-actions button, .meta-actions a').all()) {
        const r = await rectOf(button);
        const hit = await page.evaluate(
          `(() => { const el = document.elementFromPoint(${r.x + r.width / 2}, ${r.y + r.height / 2}); return el && el.closest('.meta-actions') ? true : el ? el.outerHTML.slice(0, 80) : null; })()`,
        );
        expect(hit, `${await button.textContent()} is covered at ${size.tag}`).toBe(true);
      }
      await quiet(page);
      await screenshot(page, `library-preview-${size.tag}`);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    }
  });

  it('zooms with + − 1:1 and Fit, with the wheel about the pointer, and pans a zoomed picture by dragging', async () => {
    await page.setViewportSize(SIZES[1]);
    await cellsOf(page, TALL).first().dblclick();
    const dialog = preview(page);
    const viewer = dialog.getByTestId('image-viewer');
    const img = shownImage(dialog);
    await until(() => loaded(img)).toBe(true);
    const level = dialog.getByTestId('zoom-level');
    const fitted = await rectOf(img);

    // 1:1 — one picture pixel per CSS pixel, the top of the picture cut by the window.
    await page.keyboard.press('1');
    await until(() => level.textContent()).toBe('100%');
    expect((await rectOf(img)).width).toBeCloseTo(512, 0);
    expect(await viewer.getAttribute('data-fit')).toBe('false');
    // A drag moves it; it cannot be dragged past its edge.
    const surface = await rectOf(dialog.locator('.viewer-surface'));
    const before = await rectOf(img);
    await page.mouse.move(surface.x + surface.width / 2, surface.y + surface.height / 2);
    await page.mouse.down();
    await page.mouse.move(surface.x + surface.width / 2, surface.y + surface.height / 2 - 150, { steps: 5 });
    await page.mouse.up();
    expect((await rectOf(img)).y).toBeCloseTo(before.y - 150, 0);
    await page.mouse.move(surface.x + surface.width / 2, surface.y + 40);
    await page.mouse.down();
    await page.mouse.move(surface.x + surface.width / 2, surface.y + surface.height - 10, { steps: 5 });
    await page.mouse.up();
    expect((await rectOf(img)).y).toBeCloseTo(surface.y, 0);

    // − steps down, Fit (and 0) fit again.
    await dialog.getByRole('button', { name: 'Zoom out' }).click();
    await until(() => level.textContent()).not.toBe('100%');
    await dialog.getByRole('button', { name: 'Fit' }).click();
    await until(() => viewer.getAttribute('data-fit')).toBe('true');
    expect(await rectOf(img)).toEqual(fitted);

    // The wheel zooms about the pointer: the picture point under it stays under it.
    const at = { x: fitted.x + fitted.width * 0.3, y: fitted.y + fitted.height * 0.6 };
    const u = (at.x - fitted.x) / fitted.width;
    const v = (at.y - fitted.y) / fitted.height;
    await page.mouse.move(at.x, at.y);
    for (let notch = 0; notch < 4; notch++) await page.mouse.wheel(0, -100);
    await until(async () => (await rectOf(img)).width).toBeGreaterThan(fitted.width * 1.5);
    const zoomed = await rectOf(img);
    const room = await rectOf(dialog.locator('.viewer-surface'));
    expect(zoomed.y + v * zoomed.height).toBeCloseTo(at.y, 0);
    // Still narrower than the room, it stays centred across (a picture is never pushed off to one side).
    expect(zoomed.width).toBeLessThan(room.width);
    expect(zoomed.x + zoomed.width / 2).toBeCloseTo(room.x + room.width / 2, 0);
    expect(u).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Zoom in' }).click();
    await until(async () => (await rectOf(img)).width).toBeGreaterThan(zoomed.width);

    // The next picture starts fitted again.
    await page.keyboard.press('ArrowRight');
    await until(() => viewer.getAttribute('data-fit')).toBe('true');
    await page.keyboard.press('0');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('never moves the grid when a tile is selected, so a double-click opens the tile double-clicked', async () => {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await grid(page).evaluate((g) => g.scrollTo(0, 0));
      await page.locator('.view-header h1').click();
      await quiet(page);
      await screenshot(page, `library-grid-${size.tag}`);
      // A tile in the second row, like a person picking one below the first.
      const columns = Number(await grid(page).getAttribute('aria-colcount'));
      const tile = cells(page).nth(columns + 1);
      const id = (await tile.getAttribute('data-asset-id'))!;
      const box = await rectOf(tile);
      await tile.click();
      await page.getByTestId('selection-count').waitFor();
      expect(await rectOf(tile)).toEqual(box);
      if (size.tag === '1024') {
        await quiet(page);
        await screenshot(page, 'library-selection-1024');
      }
      await page.keyboard.press('Escape');
      await page.getByTestId('selection-count').waitFor({ state: 'detached' });

      await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
      await preview(page).waitFor();
      expect(await previewedId(page)).toBe(id);
      await page.keyboard.press('Escape');
      await preview(page).waitFor({ state: 'detached' });
      await page.keyboard.press('Escape'); // the double-click's first click selected it
    }
  });

  it('gives the grid keyboard focus back on the asset shown last when the preview closes', async () => {
    await grid(page).focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await preview(page).waitFor();
    await page.keyboard.press('ArrowRight'); // the preview moves on to the fourth asset
    await until(() => preview(page).locator('.preview-counter').textContent()).toMatch(/^4 of/);
    await page.keyboard.press('Escape');
    await preview(page).waitFor({ state: 'detached' });
    await until(() => active(page)).toMatchObject({ testid: 'library-grid', descendant: 'library-cell-3' });
    // The arrow keys go on from there.
    await page.keyboard.press('ArrowRight');
    await until(() => active(page)).toMatchObject({ testid: 'library-grid', descendant: 'library-cell-4' });

    // Also when closed with the mouse, after opening with a double-click.
    await cells(page).nth(6).dblclick();
    await preview(page).waitFor();
    await preview(page).getByRole('button', { name: 'Close preview' }).click();
    await preview(page).waitFor({ state: 'detached' });
    await until(() => active(page)).toMatchObject({ testid: 'library-grid', descendant: 'library-cell-6' });
    await page.keyboard.press('ArrowLeft');
    await until(() => active(page)).toMatchObject({ testid: 'library-grid', descendant: 'library-cell-5' });
    await page.keyboard.press('Escape');
  });

  it('says each figure of a run in its own unit: times, memory and counts', async () => {
    await cellsOf(page, CLIP).first().dblclick();
    const figures = preview(page).getByTestId('run-figures');
    await figures.waitFor();
    const shown = Object.fromEntries(
      await figures.locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
    ) as Record<string, string>;
    expect(shown['VAE calls']).toBe('17');
    expect(shown['VAE decode peak memory']).toMatch(/^\d+ MB$|^\d+\.\d GB$/);
    expect(shown['Total']).toMatch(/^\d+ ms$|^\d+\.\d s$/);
    await page.keyboard.press('Escape');
    await preview(page).waitFor({ state: 'detached' });

    await cellsOf(page, SQUARE).first().dblclick();
    await preview(page).getByTestId('run-figures').getByText('Batches').waitFor();
    const batches = await preview(page).getByTestId('run-figures').locator('dt', { hasText: 'Batches' }).evaluate((dt) => dt.nextElementSibling?.textContent);
    expect(batches).toBe('1');
    await page.keyboard.press('Escape');
    await preview(page).waitFor({ state: 'detached' });
  });

  it('downloads an imported file under its own name, and a generated one as its prompt words and seed', async () => {
    const download = async (cell: Locator, expectedId?: string) => {
      await cell.dblclick();
      if (expectedId) await until(() => previewedId(page)).toBe(expectedId);
      const link = preview(page).getByRole('link', { name: 'Download' });
      // The name comes from the asset's recipe, read when the preview opens.
      await until(() => preview(page).locator('.meta-origin').textContent()).not.toBe('');
      await page.waitForTimeout(100);
      const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const name = file.suggestedFilename();
      await file.cancel();
      await page.keyboard.press('Escape');
      await preview(page).waitFor({ state: 'detached' });
      return name;
    };
    expect(await download(cellsOf(page, 'A beach at noon').first())).toBe('holiday-snapshot.png');
    const third = tall[2]!;
    expect(await download(page.locator(`[data-testid="library-grid"] .cell[data-asset-id="${third.id}"]`), third.id)).toBe('tall-lighthouse-poster-portrait-dramatic-sky-1234-2.png');
    const first = tall[0]!;
    expect(await download(page.locator(`[data-testid="library-grid"] .cell[data-asset-id="${first.id}"]`), first.id)).toBe('tall-lighthouse-poster-portrait-dramatic-sky-1234.png');
  });

  it('compares two selected images: slider, side by side and difference, each labelled with its own seed', { timeout: 120_000 }, async () => {
    const [a, b] = [tall[1]!, tall[4]!];
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.locator('.view-header h1').click();
      await page.locator(`[data-testid="library-grid"] .cell[data-asset-id="${a.id}"]`).click();
      await page.locator(`[data-testid="library-grid"] .cell[data-asset-id="${b.id}"]`).click({ modifiers: ['Control'] });
      await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Compare' }).click();
      const dialog = page.getByRole('dialog', { name: 'Compare two images' });
      const viewer = dialog.getByTestId('compare-viewer');
      await until(() => viewer.getAttribute('data-mode')).toBe('slider');
      const captions = [await dialog.getByTestId('compare-caption-a').textContent(), await dialog.getByTestId('compare-caption-b').textContent()];
      const labels = captions.map((c) => /seed \d+(, batch index \d+)?/.exec(c!)?.[0]);
      expect(labels.sort()).toEqual(['seed 1234, batch index 1', 'seed 1234, batch index 4']);
      await until(async () => (await dialog.locator('img.viewer-img').evaluateAll((imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth))).every((w) => w === 512)).toBe(true);

      // The slider: the divider moves by key (and the top picture is cut there).
      const divider = dialog.getByRole('slider', { name: /Divider/ });
      expect(await divider.getAttribute('aria-valuenow')).toBe('50');
      await divider.focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      expect(await divider.getAttribute('aria-valuenow')).toBe('54');
      expect(await dialog.getByTestId('compare-top').evaluate((el) => (el as unknown as { style: { clipPath: string } }).style.clipPath)).toBe('inset(0px 0px 0px 54%)');
      // …and by dragging it.
      const surface = await rectOf(dialog.locator('.compare-surface'));
      const grip = await rectOf(divider);
      await page.mouse.move(grip.x + grip.width / 2, surface.y + surface.height / 2);
      await page.mouse.down();
      await page.mouse.move(surface.x + surface.width * 0.25, surface.y + surface.height / 2, { steps: 4 });
      await page.mouse.up();
      expect(Number(await divider.getAttribute('aria-valuenow'))).toBeCloseTo(25, -1);
      // Both pictures fitted in the surface, on top of each other.
      const pictures = await dialog.locator('.viewer-frame').all();
      const [ra, rb] = [await rectOf(pictures[0]!), await rectOf(pictures[1]!)];
      expect(ra).toEqual(rb);
      expect(inside(ra, surface)).toBe(true);
      if (size.tag === '1440') {
        await quiet(page);
        await screenshot(page, 'library-compare-1440');
      }

      // Side by side: two fitted pictures, one zoom for both.
      await dialog.getByRole('button', { name: 'Side by side' }).click();
      await until(() => viewer.getAttribute('data-mode')).toBe('side');
      await page.keyboard.press('1');
      await until(() => dialog.getByTestId('zoom-level').textContent()).toBe('100%');
      const [sa, sb] = [await rectOf(dialog.locator('.viewer-frame').nth(0)), await rectOf(dialog.locator('.viewer-frame').nth(1))];
      expect([sa.width, sb.width]).toEqual([512, 512]);
      expect(sa.y).toBe(sb.y);
      await page.keyboard.press('0');

      // Difference: B drawn over A with the difference blend; Amplify brightens it.
      await dialog.getByRole('button', { name: 'Difference' }).click();
      await until(() => viewer.getAttribute('data-mode')).toBe('difference');
      expect(await dialog.getByTestId('compare-top').locator('.viewer-frame').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { mixBlendMode: string } }).getComputedStyle(el).mixBlendMode)).toBe('difference');
      await dialog.getByRole('button', { name: 'Amplify' }).click();
      expect(await dialog.locator('.compare-difference').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { filter: string } }).getComputedStyle(el).filter)).toBe('brightness(4)');
      if (size.tag === '1024') {
        await quiet(page);
        await screenshot(page, 'library-compare-1024');
      }

      // A seed label copies what makes that image alone.
      await dialog.getByRole('button', { name: 'seed 1234, batch index 4' }).click();
      await until(() => page.evaluate('navigator.clipboard.readText()')).toBe('seed 1234, batch index 4');
      await closeNotices(page);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      // Focus went back to Compare, in the selection bar.
      await until(() => active(page)).toMatchObject({ text: 'Compare' });
      await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Clear' }).click();
      await page.getByTestId('selection-count').waitFor({ state: 'detached' });
    }
  });

  it('in the Workspace: a lightbox that fits and zooms, compare with slider and difference, and seeds that make each image alone', { timeout: 120_000 }, async () => {
    await page.setViewportSize(SIZES[0]);
    await page.getByRole('tab', { name: /Workspace/ }).click();
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill(WS_PROMPT);
    await page.getByRole('textbox', { name: 'Seed' }).fill('1234');
    await page.getByRole('textbox', { name: 'Steps' }).fill('2');
    await page.getByRole('textbox', { name: 'Width' }).fill('512');
    await page.getByRole('textbox', { name: 'Height' }).fill('1024');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const card = page.getByRole('region', { name: 'Submitted from here' }).locator('li.job', { hasText: WS_PROMPT });
    await until(() => card.getByTestId('job-status').textContent()).toBe('Done · 6 images');
    await until(() => card.getByTestId('result').locator('img').count()).toBe(6);

    // "Copy seed of image 3" copies the batch seed and image 3's batch index: alone, the seed makes image 1.
    await card.getByTestId('result').nth(2).hover();
    await card.getByRole('button', { name: 'Copy seed of image 3' }).click();
    await until(() => page.evaluate('navigator.clipboard.readText()')).toBe('seed 1234, batch index 2');
    await card.getByTestId('result').nth(0).hover();
    await card.getByRole('button', { name: 'Copy seed of image 1' }).click();
    await until(() => page.evaluate('navigator.clipboard.readText()')).toBe('1234');
    await closeNotices(page);

    for (const size of SIZES) {
      await page.setViewportSize(size);
      const opener = card.getByRole('button', { name: 'Enlarge image 3 of 6' });
      await opener.click();
      const lightbox = page.getByRole('dialog', { name: 'Image 3 of 6' });
      const img = shownImage(lightbox);
      await until(() => loaded(img)).toBe(true);
      await until(() => lightbox.getByTestId('image-viewer').getAttribute('data-fit')).toBe('true');
      const stage = await rectOf(lightbox.locator('.ws-lightbox-stage'));
      const picture = await rectOf(img);
      expect(inside(picture, stage), `picture ${JSON.stringify(picture)} outside ${JSON.stringify(stage)} at ${size.tag}`).toBe(true);
      expect(picture.width / picture.height).toBeCloseTo(0.5, 2);
      expect(await lightbox.getByTestId('lightbox-seed').textContent()).toBe('1234, batch index 2');
      await quiet(page);
      await screenshot(page, `workspace-lightbox-${size.tag}`);
      await page.keyboard.press('+');
      await until(async () => (await rectOf(img)).width).toBeGreaterThan(picture.width);
      await page.keyboard.press('0');
      await until(() => lightbox.getByTestId('image-viewer').getAttribute('data-fit')).toBe('true');
      await lightbox.getByRole('button', { name: 'Copy seed' }).click();
      await until(() => page.evaluate('navigator.clipboard.readText()')).toBe('seed 1234, batch index 2');
      await closeNotices(page);
      await page.keyboard.press('Escape');
      await lightbox.waitFor({ state: 'detached' });
      // Focus is back on the tile that opened it.
      await until(() => active(page)).toMatchObject({ label: 'Enlarge image 3 of 6' });
    }

    await card.getByRole('button', { name: 'Select image 2' }).click();
    await card.getByRole('button', { name: 'Select image 5' }).click();
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await card.getByRole('button', { name: 'Compare' }).click();
      const dialog = page.getByRole('dialog', { name: 'Image 2 and image 5' });
      expect(await dialog.getByTestId('compare-caption-a').textContent()).toContain('Image 2seed 1234, batch index 1');
      expect(await dialog.getByTestId('compare-caption-b').textContent()).toContain('Image 5seed 1234, batch index 4');
      await until(() => dialog.getByTestId('compare-viewer').getAttribute('data-mode')).toBe('slider');
      await dialog.getByRole('slider', { name: /Divider/ }).waitFor();
      await dialog.getByRole('button', { name: 'Difference' }).click();
      await until(() => dialog.getByTestId('compare-viewer').getAttribute('data-mode')).toBe('difference');
      await dialog.getByRole('button', { name: 'Slider' }).click();
      await until(async () => (await dialog.locator('img.viewer-img').evaluateAll((imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth))).every((w) => w === 512)).toBe(true);
      const surface = await rectOf(dialog.locator('.compare-surface'));
      expect(inside(await rectOf(dialog.locator('.viewer-frame').first()), surface)).toBe(true);
      await quiet(page);
      await screenshot(page, `workspace-compare-${size.tag}`);
      await dialog.getByRole('button', { name: 'seed 1234, batch index 4' }).click();
      await until(() => page.evaluate('navigator.clipboard.readText()')).toBe('seed 1234, batch index 4');
      await closeNotices(page);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await until(() => active(page)).toMatchObject({ text: 'Compare' });
    }
    expect(pageErrors).toEqual([]);
  });
});
