/**
 * The Workspace as a creator coming from ComfyUI, InvokeAI or A1111 expects it, end to end in a real
 * browser: the built renderer served by `studio serve` with the real engine (tests/fixtures/serve-host.ts),
 * driven in Debian's Chromium at 1440×900 and 1024×700, with axe-core run on each state shown.
 *
 * - Validation as you type, each mistake at its own field, with the engine's own schema.
 * - A recipe reused from any picture: an A1111 PNG dropped on the Workspace (DPM++ 2M Karras kept,
 *   what the studio cannot take said), a ComfyUI PNG and an A1111 JPEG through "Load settings…",
 *   this studio's MP4, an A1111 infotext pasted into the prompt, and the Library's "Use these
 *   settings" on an imported A1111 picture keeping its sampler and schedule.
 * - Runs with the seed going on from run to run, and an X/Y grid queued as one comparison sheet.
 * - That sheet exported as one PNG (labels drawn, recipe in its `parameters` text), checked as a file.
 * - A clip's decode and encode shown as stages after the steps.
 * - The draft and the session's cards (sheet included) back after a reload.
 * - The model picker: remembered per job type, with name, precision and where it runs (the real
 *   SDXL pipeline on two tiny SDXL models); Enhance and the enhanced types say when no Qwen model is ready.
 *
 * Screenshots (support.ts's screenshot): workspace-1440.png and workspace-1024.png (a recipe
 * loaded, a grid's sheet and a clip), workspace-grid-1440.png (the X/Y grid's fields and sheet),
 * workspace-grid-export.png (that sheet as exported: the file itself, not a screenshot),
 * workspace-validation-1024.png, workspace-video-stages-1024.png, workspace-model-picker-1440.png.
 * Needs `electron-vite build` first (npm test runs it).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src-preload/contract/index.ts';
import { A1111_INFOTEXT, a1111Jpeg, comfyApiGraph, comfyWorkflow, pilPng, pythonJsonDumps } from '../fixtures/library/formats.ts';
import { studioMp4 } from '../fixtures/library/tool-formats.ts';
import sharp from 'sharp';
import { findText, readPngMetadata } from '../../src-main/engine/media/png-chunks.ts';
import { sheetLayout } from '../../src-main/engine/library/sheet-layout.ts';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { buildWanFixture } from '../fixtures/wan/build-wan.ts';
import { ROOT, jobsDone, launchBrowser, recordStatuses, recordedStatuses, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const WIDE = { width: 1440, height: 900 };
const NARROW = { width: 1024, height: 700 };

/** An A1111 txt2img PNG as A1111 1.10 saves it, with hires fix and clip skip (which this studio has no field for). */
const A1111_TEXT = A1111_INFOTEXT.replace('Size: 64x48', 'Size: 832x1216').replace(', Version:', ', Hires upscale: 1.5, Hires steps: 10, Clip skip: 2, Version:');

const feed = (page: Page) => page.getByRole('region', { name: 'Submitted from here' });
const field = (page: Page, name: string) => page.getByRole('textbox', { name, exact: true });
/** The message a control's aria-describedby points at. */
const describedBy = async (page: Page, control: Locator) => {
  const id = await control.getAttribute('aria-describedby');
  return id ? page.locator(`[id="${id.split(' ')[0]}"]`).textContent() : null;
};

/**
 * A file dropped from the file manager onto the Workspace, as a browser delivers it: a File with its
 * bytes (browser code, kept as text: the tests are type-checked without the DOM library).
 */
async function dropFile(page: Page, name: string, bytes: Buffer, type: string): Promise<void> {
  const data = await page.evaluateHandle(`(() => {
    const raw = atob(${JSON.stringify(bytes.toString('base64'))});
    const array = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) array[i] = raw.charCodeAt(i);
    const transfer = new DataTransfer();
    transfer.items.add(new File([array], ${JSON.stringify(name)}, { type: ${JSON.stringify(type)} }));
    return transfer;
  })()`);
  for (const event of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('.ws-view', event, { dataTransfer: data });
}

const AXE = await readFile(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.x A/AA violations inside the Workspace (and any dialog over it), as `rule: target` lines. */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated rather than added as a <script>: the page's CSP (script-src 'self') refuses inline scripts.
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(`${AXE}\n;undefined`);
  // Dialogs are portalled out of the view: they are named too (a selector that matches nothing is skipped).
  const result = (await page.evaluate(`axe.run({ include: [['.ws-view'], ['[role="dialog"]'], ['[role="alertdialog"]']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })`)) as {
    violations: { id: string; nodes: { target: string[] }[] }[];
  };
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

async function shoot(page: Page, name: string, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await page.mouse.move(0, 0);
  await page.waitForTimeout(250);
  await screenshot(page, name);
}

describe('the Workspace for a creator, against studio serve with the test pipeline', () => {
  let dataDir = '';
  let host: Host;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-ws-creator-'));
    // A ready SDXL model, as a creator has one (the test pipeline makes the pictures), so the form is
    // the one they see: a default model, no "no model" note.
    await buildSdxlFixture(path.join(dataDir, 'models', 'studio-xl'), { precision: 'fp16' });
    host = await startHost({ dataDir, args: ['--max-attempts', '1'], env: { OURVIDZ_TEST_STEP_MS: '150' } });
    session = await launchBrowser();
    page = session.page;
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await page.setViewportSize(WIDE);
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('checks the form as it is typed, each mistake at its own field, and sends nothing wrong', async () => {
    await page.setViewportSize(NARROW);
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('A harbour at night, long exposure');
    const seed = field(page, 'Seed');
    const steps = field(page, 'Steps');
    const width = field(page, 'Width');
    await seed.fill('-5');
    await steps.fill('0');
    // No Generate press: each field says what is wrong with it, and only that.
    await until(() => seed.getAttribute('aria-invalid')).toBe('true');
    await until(() => steps.getAttribute('aria-invalid')).toBe('true');
    expect(await describedBy(page, seed)).toMatch(/^Seed must be from 0 to \d+ \(got -5\)$/);
    expect(await describedBy(page, steps)).toBe('Steps must be from 1 to 150 (got 0)');
    await width.fill('1000');
    await until(() => width.getAttribute('aria-invalid')).toBe('true');
    expect(await describedBy(page, width)).toBe('Width must be a multiple of 16 for image_fast (got 1000)');
    expect(await page.locator('.field-error').count()).toBe(3);
    await page.evaluate(`(() => { const body = document.querySelector('.ws-form-body'); body.scrollTo(0, document.querySelector('.ws-seed').offsetTop - body.offsetTop - 40); })()`);
    await shoot(page, 'workspace-validation-1024', NARROW);
    expect((await axeViolations(page)).join('\n')).toBe('');

    // Put right, a mistake goes at once; Generate with one left sends nothing and goes to it.
    await seed.fill('7');
    expect(await seed.getAttribute('aria-invalid')).toBeNull();
    await width.fill('1024');
    await until(() => width.getAttribute('aria-invalid')).toBeNull();
    const before = (await host.api<JobView[]>('jobs.list', {})).length;
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await until(() => page.evaluate('document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id')).toBe(await steps.getAttribute('id'));
    expect((await host.api<JobView[]>('jobs.list', {})).length).toBe(before);
    await steps.fill('');
    await width.fill('');
    await field(page, 'Height').fill('');
    await seed.fill('');
    await until(() => page.locator('.field-error').count()).toBe(0);
    await page.setViewportSize(WIDE);
  });

  it("fills the form from a dropped A1111 PNG: sampler and schedule kept, and what it could not take said", async () => {
    const png = pilPng({ width: 64, height: 48, text: [['parameters', A1111_TEXT]] });
    await dropFile(page, 'lighthouse-00042.png', png, 'image/png');
    const report = page.getByRole('region', { name: 'Loaded settings' });
    await until(() => report.getByRole('status').textContent()).toBe('Settings from lighthouse-00042.png (A1111 / Forge)');
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('masterpiece, a lighthouse on a cliff at dusk, (dramatic sky:1.2)');
    expect(await page.getByLabel('Negative prompt').inputValue()).toBe('blurry, lowres, watermark');
    expect(await page.getByLabel('Job type', { exact: true }).inputValue()).toBe('sdxl_image_fast');
    expect(await field(page, 'Seed').inputValue()).toBe('3141592653');
    expect(await field(page, 'Steps').inputValue()).toBe('28');
    expect(await page.getByLabel('Sampler', { exact: true }).inputValue()).toBe('dpmpp_2m_karras');
    expect(await page.locator('input.ws-number').inputValue()).toBe('6.5');
    expect([await field(page, 'Width').inputValue(), await field(page, 'Height').inputValue()]).toEqual(['832', '1216']);
    const notes = await report.getByRole('listitem').allTextContents();
    expect(notes).toEqual([
      'Model “sd_xl_base_1.0” is not on this machine; the default model is used.',
      'Not used here: Hires upscale, Hires steps, Clip skip.',
    ]);
    await page.evaluate(`document.querySelector('.ws-form-body').scrollTo(0, 0)`);
    expect((await axeViolations(page)).join('\n')).toBe('');
  });

  it('reads a ComfyUI PNG and an A1111 JPEG chosen with "Load settings…", and this studio\'s own MP4', async () => {
    const input = page.getByTestId('recipe-file-input');
    const comfy = pilPng({
      width: 64,
      height: 48,
      text: [
        ['prompt', pythonJsonDumps(comfyApiGraph('a fox in the snow, ukiyo-e', 'text, watermark', 8675309))],
        ['workflow', pythonJsonDumps(comfyWorkflow('a fox in the snow, ukiyo-e', 'text, watermark', 8675309))],
      ],
    });
    await input.setInputFiles({ name: 'ComfyUI_00017_.png', mimeType: 'image/png', buffer: comfy });
    const report = page.getByRole('region', { name: 'Loaded settings' });
    await until(() => report.getByRole('status').textContent()).toBe('Settings from ComfyUI_00017_.png (ComfyUI)');
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('a fox in the snow, ukiyo-e');
    expect(await field(page, 'Seed').inputValue()).toBe('8675309');
    expect(await field(page, 'Steps').inputValue()).toBe('20');
    // `euler` with the `normal` schedule is this studio's Euler, the SDXL preset: the field shows the preset.
    expect(await page.getByLabel('Sampler', { exact: true }).inputValue()).toBe('');
    expect([await field(page, 'Width').inputValue(), await field(page, 'Height').inputValue()]).toEqual(['512', '512']);
    expect(await report.getByRole('listitem').allTextContents()).toEqual(['Model “v1-5-pruned-emaonly.safetensors” is not on this machine; the default model is used.']);

    const jpeg = await a1111Jpeg(A1111_INFOTEXT.replace('DPM++ 2M, Schedule type: Karras', 'Euler a'));
    await input.setInputFiles({ name: 'forge-portrait.jpg', mimeType: 'image/jpeg', buffer: jpeg });
    await until(() => report.getByRole('status').textContent()).toBe('Settings from forge-portrait.jpg (A1111 / Forge)');
    expect(await page.getByLabel('Sampler', { exact: true }).inputValue()).toBe('');
    expect(await report.getByRole('listitem').first().textContent()).toBe('Sampler “Euler a” is not here (ancestral noise); the nearest, Euler, is set.');
    // 64×48 is below what SDXL makes: the nearest size it can is set, and said.
    expect(await report.textContent()).toContain('Size 64×48 does not fit SDXL (multiples of 8, 256 to 2048); 256×256 is set.');

    const dir = path.join(dataDir, 'fixtures-mp4');
    await mkdir(dir, { recursive: true });
    const { file } = await studioMp4(dir);
    await dropFile(page, 'fox.mp4', await readFile(file), 'video/mp4');
    await until(() => report.getByRole('status').textContent()).toBe('Settings from fox.mp4 (this studio)');
    expect(await page.getByLabel('Job type', { exact: true }).inputValue()).toBe('video_fast');
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('a red fox runs through snow at dusk, the camera tracks left');
    expect(await field(page, 'Seed').inputValue()).toBe('424242');
    expect(await page.getByRole('radio', { name: /^5 frames/ }).getAttribute('aria-checked')).toBe('true');
    await page.getByRole('button', { name: 'Dismiss the note about loaded settings' }).click();
    await until(() => report.count()).toBe(0);
  });

  it('fills the form from an A1111 infotext pasted into the prompt, and pastes plain text as typed', async () => {
    const prompt = page.getByLabel('Prompt', { exact: true });
    await prompt.fill('');
    await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(A1111_TEXT)})`);
    await prompt.focus();
    await page.keyboard.press('Control+V');
    const report = page.getByRole('region', { name: 'Loaded settings' });
    await until(() => report.getByRole('status').textContent()).toBe('Settings from pasted A1111 / Forge settings');
    expect(await prompt.inputValue()).toBe('masterpiece, a lighthouse on a cliff at dusk, (dramatic sky:1.2)');
    expect(await page.getByLabel('Job type', { exact: true }).inputValue()).toBe('sdxl_image_fast');
    expect(await page.getByLabel('Sampler', { exact: true }).inputValue()).toBe('dpmpp_2m_karras');
    expect(await field(page, 'Steps').inputValue()).toBe('28');

    await prompt.fill('a quiet harbour, ');
    await page.evaluate(`navigator.clipboard.writeText('fog at dawn')`);
    await prompt.press('End');
    await page.keyboard.press('Control+V');
    await until(() => prompt.inputValue()).toBe('a quiet harbour, fog at dawn');
    await page.getByRole('button', { name: 'Dismiss the note about loaded settings' }).click();
  });

  it('keeps the sampler and schedule of an imported A1111 picture in the Library\'s "Use these settings"', async () => {
    const dir = path.join(dataDir, 'to-import');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'a1111-karras.png'), pilPng({ width: 64, height: 48, text: [['parameters', A1111_TEXT]] }));
    await host.api('library.import', { dir });
    await page.getByRole('tab', { name: /Library/ }).click();
    const cell = page.locator('[data-testid="library-grid"] .cell[data-asset-id]', { hasText: '' }).first();
    await until(() => page.locator('[data-testid="library-grid"] .cell[data-asset-id]').count()).toBeGreaterThan(0);
    await cell.dblclick();
    const preview = page.getByTestId('library-preview');
    await preview.waitFor();
    await preview.getByRole('complementary', { name: 'Details' }).getByRole('button', { name: 'Use these settings' }).click();
    await preview.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'Workspace', level: 1 }).waitFor();
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('masterpiece, a lighthouse on a cliff at dusk, (dramatic sky:1.2)');
    expect(await page.getByLabel('Sampler', { exact: true }).inputValue()).toBe('dpmpp_2m_karras');
    expect(await field(page, 'Steps').inputValue()).toBe('28');
    await page.getByRole('button', { name: 'Dismiss the note about loaded settings' }).click();
  });

  it("shows a clip's decode and encode as stages after the steps", async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN video · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('A paper boat drifting down a rain-soaked street');
    await field(page, 'Seed').fill('');
    await field(page, 'Steps').fill('2');
    await field(page, 'Width').fill('256');
    await field(page, 'Height').fill('256');
    await page.getByRole('radio', { name: /^17 frames/ }).click();
    await page.setViewportSize(NARROW);
    await recordStatuses(page, '[data-testid="step-text"]');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const clip = feed(page).locator('li.job', { hasText: 'A paper boat drifting down a rain-soaked street' });
    await until(() => clip.getByTestId('step-text').textContent()).toMatch(/^Decoding frames · (5|9|13) of 17$/);
    expect(await clip.locator('.ws-phase[data-state="done"]').allTextContents()).toEqual(['✓Steps 2/2']);
    expect(await clip.locator('.ws-phase[data-state="active"]').textContent()).toMatch(/^Decode (5|9|13)\/17$/);
    await page.mouse.move(0, 0);
    await screenshot(page, 'workspace-video-stages-1024');
    expect((await axeViolations(page)).join('\n')).toBe('');
    await until(() => clip.getByTestId('job-status').textContent()).toBe('Done · 1 video');
    const seen = (await recordedStatuses(page)).filter((s) => s !== 'Starting' && !s.startsWith('Step 0'));
    // In order: the steps, the decode frame by frame, then the MP4's finish — never "100 %" alone.
    const at = (text: string) => seen.indexOf(text);
    expect(at('Step 2 of 2')).toBeGreaterThanOrEqual(0);
    for (const frames of [1, 5, 9, 13, 17]) expect(at(`Decoding frames · ${frames} of 17`), String(frames)).toBeGreaterThan(at('Step 2 of 2'));
    expect(at('Decoding frames · 5 of 17')).toBeGreaterThan(at('Decoding frames · 1 of 17'));
    expect(at('Encoding the MP4')).toBeGreaterThan(at('Decoding frames · 17 of 17'));
    await page.setViewportSize(WIDE);
  });

  it('queues runs with the seed going on from run to run, and an X/Y grid as one comparison sheet', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('Paper lanterns over a canal at dusk');
    await page.getByLabel('Negative prompt').fill('');
    await page.getByLabel('Sampler', { exact: true }).selectOption('');
    await field(page, 'Seed').fill('100');
    await field(page, 'Steps').fill('2');
    await page.getByRole('radio', { name: /1024×1024/ }).click();
    await field(page, 'Width').fill('256');
    await field(page, 'Height').fill('256');
    await field(page, 'Images').fill('2');
    await field(page, 'Runs').fill('3');
    await until(() => page.getByTestId('generate-summary').textContent()).toContain('queues 3 runs · 6 images');
    expect(await page.locator('.ws-hint', { hasText: 'seeds 100, 102, … 104 (+2 per run)' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const runs = feed(page).locator('li.job', { hasText: 'Paper lanterns over a canal at dusk' });
    await until(() => runs.count()).toBe(3);
    const queued = (await host.api<JobView[]>('jobs.list', {})).filter((j) => j.params.prompt === 'Paper lanterns over a canal at dusk');
    expect(queued.map((j) => [j.params.seed, j.params.count]).sort()).toEqual([[100, 2], [102, 2], [104, 2]]);
    await jobsDone(host, queued.map((j) => j.id));

    // The grid: two step counts across, two seeds down; one job of one image per cell.
    await field(page, 'Runs').fill('');
    await page.getByRole('button', { name: /X\/Y grid/ }).click();
    await page.getByLabel('X axis').selectOption('steps');
    await page.getByLabel('X values').fill('2-3');
    await page.getByLabel('Y axis').selectOption('prompt');
    await page.getByLabel('Y values').fill('dusk, dawn');
    await until(() => page.getByTestId('generate-summary').textContent()).toContain('queues a 2×2 grid (4 jobs)');
    await page.evaluate(`document.querySelector('.ws-form-body').scrollTo(0, 4000)`);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const sheet = feed(page).locator('li.ws-sheet');
    await until(() => sheet.count()).toBe(1);
    await until(() => sheet.getByTestId('sheet-status').textContent()).toBe('Done · 4 cells');
    expect(await sheet.locator('thead th').allTextContents()).toEqual(['steps 2', 'steps 3']);
    expect(await sheet.locator('tbody th').allTextContents()).toEqual(['dusk', 'dawn']);
    const images = sheet.locator('img');
    await until(() => images.count()).toBe(4);
    await until(() => images.evaluateAll((els) => els.every((el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);
    const cells = (await host.api<JobView[]>('jobs.list', {})).filter((j) => j.params.prompt.startsWith('Paper lanterns over a canal at') && j.params.count === 1);
    expect(cells.map((j) => [j.params.prompt, j.params.steps, j.params.seed]).sort()).toEqual([
      ['Paper lanterns over a canal at dawn', 2, 100],
      ['Paper lanterns over a canal at dawn', 3, 100],
      ['Paper lanterns over a canal at dusk', 2, 100],
      ['Paper lanterns over a canal at dusk', 3, 100],
    ]);
    // The grid's jobs are the sheet, not loose cards.
    expect(await feed(page).locator('li.job:not(.ws-sheet)', { hasText: 'Paper lanterns over a canal at dawn' }).count()).toBe(0);
    await sheet.getByRole('button', { name: 'Enlarge steps 3, dawn' }).click();
    const viewer = page.getByRole('dialog');
    await until(() => viewer.getByRole('heading').textContent()).toBe('steps 3, dawn');
    await page.keyboard.press('ArrowRight');
    await until(() => viewer.getByRole('heading').textContent()).toBe('steps 2, dusk');
    expect((await axeViolations(page)).join('\n')).toBe('');
    await page.keyboard.press('Escape');
    await until(() => viewer.count()).toBe(0);
    expect((await axeViolations(page)).join('\n')).toBe('');
    await shoot(page, 'workspace-grid-1440', WIDE);
    await page.getByLabel('X axis').selectOption('');
  });

  it('exports the X/Y sheet as one PNG: the cells at their size under a header, the recipe in its text, the pictures really there', async () => {
    const sheet = feed(page).locator('li.ws-sheet');
    const button = sheet.getByRole('button', { name: 'Export as PNG' });
    await button.focus();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toMatch(/^xy-steps-by-prompt-s-r-\d{4}-\d{2}-\d{2}-\d{4}\.png$/);
    const file = path.join(dataDir, 'exported-sheet.png');
    await download.saveAs(file);
    // The exported sheet itself, beside the screenshots (docs/screenshots with UPDATE_SCREENSHOTS=1).
    await download.saveAs(path.join(ROOT, process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'out/screenshots', 'workspace-grid-export.png'));
    await until(() => page.locator('.toast', { hasText: 'Sheet exported' }).count()).toBe(1);
    expect(await button.getAttribute('aria-busy')).toBe('false');

    // A PNG of 2×2 cells of 256² (the pictures' own size) under the axis titles and X values, beside the Y values.
    const png = await readFile(file);
    const meta = await sharp(png).metadata();
    const layout = sheetLayout({ xLabels: ['steps 2', 'steps 3'], yLabels: ['dusk', 'dawn'], xTitle: 'Steps', yTitle: 'Prompt S/R', imageWidth: 256, imageHeight: 256 });
    expect([layout.cellWidth, layout.cellHeight]).toEqual([256, 256]);
    expect([meta.format, meta.channels, meta.width, meta.height]).toEqual(['png', 3, layout.leftWidth + 2 * 256 + layout.gap, layout.titleHeight + layout.headerHeight + 2 * 256 + layout.gap]);

    // The recipe, as A1111 writes a grid's: the first cell's settings, then the axes.
    const parameters = findText(readPngMetadata(png).text, 'parameters') ?? '';
    expect(parameters.startsWith('Paper lanterns over a canal at dusk\n')).toBe(true);
    expect(parameters).toContain('Steps: 2, ');
    expect(parameters).toContain('Seed: 100, ');
    expect(parameters).toContain('X Type: Steps, X Values: "steps 2, steps 3", Y Type: Prompt S/R, Y Values: "dusk, dawn"');

    // The cell "steps 3, dawn" holds that job's picture: its mean colour matches the library's file.
    const cellJob = (await host.api<JobView[]>('jobs.list', {})).find((j) => j.params.prompt === 'Paper lanterns over a canal at dawn' && j.params.steps === 3 && j.params.count === 1)!;
    const assetId = cellJob.status.state === 'done' ? cellJob.status.assets[0]! : '';
    const source = Buffer.from(await (await fetch(`${host.url}/studio-media/asset/${assetId}/original`, { headers: { authorization: `Bearer ${host.token}` } })).arrayBuffer());
    const mean = async (bytes: Buffer) => (await sharp(bytes).stats()).channels.slice(0, 3).map((c) => c.mean);
    const cell = layout.cells[3]!;
    const drawn = await mean(await sharp(png).extract({ left: cell.left, top: cell.top, width: cell.width, height: cell.height }).png().toBuffer());
    const original = await mean(source);
    for (let c = 0; c < 3; c++) expect(Math.abs(drawn[c]! - original[c]!)).toBeLessThan(2);
    // …and not merely any picture of the sheet: the other row's picture differs from it.
    const other = layout.cells[0]!;
    const elsewhere = await mean(await sharp(png).extract({ left: other.left, top: other.top, width: other.width, height: other.height }).png().toBuffer());
    expect(elsewhere.some((v, c) => Math.abs(v - original[c]!) >= 2)).toBe(true);
    for (const close of await page.locator('.toast-close').all()) await close.click();
  });

  it("keeps the draft and the session's cards, sheet included, across a reload", async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'SDXL image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('Lighthouse keeper’s cottage, storm rolling in, oil painting');
    await page.getByLabel('Negative prompt').fill('text, watermark');
    await field(page, 'Seed').fill('4242');
    await field(page, 'Steps').fill('3');
    const cardsBefore = await feed(page).locator('li.job').count();
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('Lighthouse keeper’s cottage, storm rolling in, oil painting');
    expect(await page.getByLabel('Negative prompt').inputValue()).toBe('text, watermark');
    expect(await page.getByLabel('Job type', { exact: true }).inputValue()).toBe('sdxl_image_fast');
    expect(await field(page, 'Seed').inputValue()).toBe('4242');
    expect(await field(page, 'Steps').inputValue()).toBe('3');
    // The cards come back from the engine's job records, finished results and all.
    await until(() => feed(page).locator('li.job').count()).toBe(cardsBefore);
    const sheet = feed(page).locator('li.ws-sheet');
    await until(() => sheet.locator('img').count()).toBe(4);
    const clip = feed(page).locator('li.job', { hasText: 'A paper boat drifting down a rain-soaked street' });
    await until(() => clip.getByTestId('job-status').textContent()).toBe('Done · 1 video');
    await clip.locator('video').waitFor();
    expect(await feed(page).locator('li.job', { hasText: 'Paper lanterns over a canal at dusk' }).count()).toBeGreaterThanOrEqual(3);

    // The pictures as a person sees them, at both window sizes: a recipe loaded, a sheet and a clip.
    await dropFile(page, 'lighthouse-00042.png', pilPng({ width: 64, height: 48, text: [['parameters', A1111_TEXT]] }), 'image/png');
    await page.getByRole('region', { name: 'Loaded settings' }).waitFor();
    for (const close of await page.locator('.toast-close').all()) await close.click();
    await page.evaluate(`document.querySelectorAll('.ws-feed, .ws-form-body').forEach((el) => el.scrollTo(0, 0))`);
    await shoot(page, 'workspace-1440', WIDE);
    expect((await axeViolations(page)).join('\n')).toBe('');
    await shoot(page, 'workspace-1024', NARROW);
    expect((await axeViolations(page)).join('\n')).toBe('');
    await page.setViewportSize(WIDE);
    expect(session.pageErrors).toEqual([]);
  });
});

describe('the model picker and the enhancer note, against studio serve with the real SDXL pipeline', () => {
  let dataDir = '';
  let host: Host;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-ws-models-'));
    // Two ready SDXL models (tiny, the real architecture): one stored in fp32, one in fp16; a WAN
    // model; no Qwen model.
    await buildSdxlFixture(path.join(dataDir, 'models', 'harbor-xl'), { precision: 'fp32' });
    await buildSdxlFixture(path.join(dataDir, 'models', 'lantern-xl'), { precision: 'fp16' });
    await buildWanFixture(path.join(dataDir, 'models', 'wan-tiny'));
    host = await startHost({ dataDir, args: ['--max-attempts', '1', '--real-sdxl'] });
    session = await launchBrowser();
    page = session.page;
    await page.setViewportSize(WIDE);
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('remembers the model per job type and says how each is stored and where it runs', async () => {
    const type = page.getByLabel('Job type', { exact: true });
    const model = page.getByLabel('Model', { exact: true });
    const details = page.getByTestId('model-details');
    await type.selectOption({ label: 'SDXL image · fast' });
    await until(() => model.locator('option').count()).toBe(3);
    await model.selectOption('lantern-xl');
    await until(() => details.textContent()).toMatch(/^fp16 · [\d.]+ MB · runs on (the GPU \(CUDA\) when it starts, else .*the CPU|the CPU)$/);
    await type.selectOption({ label: 'SDXL image · high' });
    await model.selectOption('harbor-xl');
    await type.selectOption({ label: 'SDXL image · fast' });
    expect(await model.inputValue()).toBe('lantern-xl');
    await type.selectOption({ label: 'SDXL image · high' });
    expect(await model.inputValue()).toBe('harbor-xl');
    // Each by the name it was given and how it is stored; the default names the model it stands for.
    expect(await model.locator('option').allTextContents()).toEqual(['Default: harbor-xl · fp32', 'harbor-xl · fp32', 'lantern-xl · fp16']);

    // A job on the picked model: the picker then says where it ran.
    await type.selectOption({ label: 'SDXL image · fast' });
    await page.getByLabel('Prompt', { exact: true }).fill('A lantern on a pier at night');
    await field(page, 'Steps').fill('2');
    await field(page, 'Images').fill('1');
    await page.getByRole('radio', { name: /1024×1024/ }).click();
    await field(page, 'Width').fill('256');
    await field(page, 'Height').fill('256');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const card = feed(page).locator('li.job', { hasText: 'A lantern on a pier at night' });
    await until(() => card.getByTestId('job-status').textContent()).toBe('Done · 1 image');
    const done = await host.api<JobView>('jobs.get', { id: await card.getAttribute('data-job-id') });
    expect(done.modelId).toBe('lantern-xl');
    expect(done.provider).toBe('cpu');
    await until(() => details.textContent()).toMatch(/^fp16 · [\d.]+ MB · ran on the CPU last time$/);

    // Remembered across a reload too.
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await until(() => model.inputValue()).toBe('lantern-xl');
    await type.selectOption({ label: 'SDXL image · high' });
    expect(await model.inputValue()).toBe('harbor-xl');
    await shoot(page, 'workspace-model-picker-1440', WIDE);
    expect((await axeViolations(page)).join('\n')).toBe('');
  });

  it('says before the press that Enhance and the enhanced types need a Qwen model', async () => {
    const enhance = page.getByRole('button', { name: 'Enhance', exact: true });
    await page.getByTestId('enhancer-missing').waitFor();
    expect(await enhance.getAttribute('aria-disabled')).toBe('true');
    expect(await describedBy(page, enhance)).toContain('Enhance needs a Qwen 2.5 model');
    await enhance.click({ force: true });
    expect(await page.getByRole('region', { name: 'Prompt enhancement' }).count()).toBe(0);
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast · enhanced' });
    const note = page.locator('.ws-model-missing');
    await note.waitFor();
    expect(await note.textContent()).toContain('No Qwen 2.5 model is ready, so Enhance and the enhanced job types cannot rewrite prompts.');
    expect(await note.getByRole('button').textContent()).toBe('Model folders');
    expect(await describedBy(page, page.getByRole('button', { name: 'Generate', exact: true }))).toContain('No Qwen 2.5 model is ready');
    await page.getByLabel('Job type', { exact: true }).selectOption({ label: 'WAN image · fast' });
    await until(() => note.count()).toBe(0);
    expect((await axeViolations(page)).join('\n')).toBe('');
    expect(session.pageErrors).toEqual([]);
  });
});
