/**
 * The exported X/Y sheet: its layout maths (sheet-layout.ts) and the PNG sheet.ts composes from real
 * library assets — its size, the pictures really in their cells, the placeholders, the recipe text
 * A1111 and this studio's recipe reader take from it, and the refusals.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channels } from '../../../src-preload/contract/channels.ts';
import { findText, readPngMetadata } from '../../../src-main/engine/media/png-chunks.ts';
import { parseA1111Parameters } from '../../../src-main/engine/media/a1111.ts';
import { readRecipeFile } from '../../../src-main/engine/recipes/read-recipe.ts';
import { SHEET_MAX_SIDE, sheetLayout, textWidth, wrapLabel } from '../../../src-main/engine/library/sheet-layout.ts';
import type { SheetLayout } from '../../../src-main/engine/library/sheet-layout.ts';
import { axisValuesText, escapeXml, exportSheet, sheetFileName, sheetParameters } from '../../../src-main/engine/library/sheet.ts';
import type { SheetParams, SheetSource } from '../../../src-main/engine/library/sheet.ts';
import { pilPng } from '../../fixtures/library/formats.ts';
import { addAsset, makeWorld } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

const inside = (l: SheetLayout) => l.cells.every((c) => c.left >= 0 && c.top >= 0 && c.left + c.width <= l.width && c.top + c.height <= l.height);
const overlapping = (l: SheetLayout) =>
  l.cells.some((a, i) => l.cells.some((b, j) => i < j && a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height));

describe('the layout of an exported sheet', () => {
  it('keeps small pictures at their size: header row, left column, cells row by row', () => {
    const l = sheetLayout({ xLabels: ['steps 2', 'steps 3'], yLabels: ['dusk', 'dawn'], xTitle: 'Steps', yTitle: 'Prompt S/R', imageWidth: 256, imageHeight: 256 });
    expect([l.cellWidth, l.cellHeight, l.cols, l.rows]).toEqual([256, 256, 2, 2]);
    expect(l.fontSize).toBe(13);
    expect(l.leftWidth).toBeGreaterThanOrEqual(Math.round(256 * 0.3));
    expect(l.width).toBe(l.leftWidth + 2 * 256 + l.gap);
    expect(l.height).toBe(l.titleHeight + l.headerHeight + 2 * 256 + l.gap);
    // Row by row, X across: cell 1 is right of cell 0, cell 2 below it.
    expect(l.cells[1]!.left).toBe(l.cells[0]!.left + 256 + l.gap);
    expect(l.cells[2]!.top).toBe(l.cells[0]!.top + 256 + l.gap);
    expect(l.cells[0]).toEqual({ left: l.leftWidth, top: l.titleHeight + l.headerHeight, width: 256, height: 256 });
    expect(inside(l) && !overlapping(l)).toBe(true);
    // Each X label is centred over its own column; each Y label beside its own row.
    l.xLabels.forEach((label, c) => expect(label.box.left + label.box.width / 2).toBeCloseTo(l.cells[c]!.left + 128, 5));
    l.yLabels.forEach((label, r) => expect(label.box.top + label.box.height / 2).toBeCloseTo(l.cells[r * 2]!.top + 128, 5));
    expect(l.xTitle.lines).toEqual(['X: Steps']);
    expect(l.yTitle?.lines.join(' ')).toBe('Y: Prompt S/R');
  });

  it('has no left column for a one-axis sheet, and keeps the aspect of the pictures', () => {
    const l = sheetLayout({ xLabels: ['CFG 4', 'CFG 6', 'CFG 8'], yLabels: null, xTitle: 'Guidance (CFG)', yTitle: null, imageWidth: 512, imageHeight: 768 });
    expect([l.leftWidth, l.rows, l.cellWidth, l.cellHeight]).toEqual([0, 1, 512, 768]);
    expect(l.yLabels).toEqual([]);
    expect(l.yTitle).toBeNull();
    expect(l.width).toBe(3 * 512 + 2 * l.gap);
  });

  it('keeps a 6×6 sheet of 1024² pictures at full size, under 8k a side', () => {
    const six = Array.from({ length: 6 }, (_, i) => `seed ${i}`);
    const l = sheetLayout({ xLabels: six, yLabels: six, xTitle: 'Seed', yTitle: 'Seed', imageWidth: 1024, imageHeight: 1024 });
    expect([l.cellWidth, l.cellHeight]).toEqual([1024, 1024]);
    expect(Math.max(l.width, l.height)).toBeLessThan(SHEET_MAX_SIDE);
    expect(l.fontSize).toBe(51);
  });

  it('shrinks every cell together, as little as it takes, when the sheet would pass the cap', () => {
    const eight = Array.from({ length: 8 }, (_, i) => `steps ${10 + i * 5}`);
    const input = { xLabels: eight, yLabels: eight, xTitle: 'Steps', yTitle: 'Steps', imageWidth: 1024, imageHeight: 1024 };
    const l = sheetLayout(input);
    expect(l.cellWidth).toBeLessThan(1024);
    expect(l.cellWidth).toBeGreaterThan(900);
    expect(Math.max(l.width, l.height)).toBeLessThanOrEqual(SHEET_MAX_SIDE);
    expect(inside(l) && !overlapping(l)).toBe(true);
    // The largest that fits: one pixel more would not.
    const tighter = sheetLayout({ ...input, maxSide: Math.max(l.width, l.height) - 1 });
    expect(tighter.cellWidth).toBeLessThan(l.cellWidth);
    // A wide sheet of one row shrinks on its width alone.
    const wide = sheetLayout({ xLabels: Array.from({ length: 64 }, (_, i) => `seed ${i}`), yLabels: null, xTitle: 'Seed', yTitle: null, imageWidth: 1024, imageHeight: 1024 });
    expect(wide.width).toBeLessThanOrEqual(SHEET_MAX_SIDE);
    expect(wide.cellWidth).toBe(Math.floor((SHEET_MAX_SIDE + wide.gap) / 64) - wide.gap);
  });

  it('wraps labels on words to their column, cuts what runs past three lines, and never returns nothing', () => {
    expect(wrapLabel('a misty pine forest at dawn', textWidth('a misty pine', 10), 10)).toEqual(['a misty pine', 'forest at', 'dawn']);
    expect(wrapLabel('abcdefghij', textWidth('abcd', 10), 10)).toEqual(['abcd', 'efgh', 'ij']);
    const cut = wrapLabel('one two three four five six', textWidth('three', 10), 10);
    expect(cut).toHaveLength(3);
    expect(cut[2]!.endsWith('…')).toBe(true);
    expect(wrapLabel('', 100, 10)).toEqual(['']);
    for (const line of wrapLabel('DPM++ 2M Karras with a very long schedule name', 120, 14)) expect(textWidth(line, 14)).toBeLessThanOrEqual(120);
  });

  it('refuses what cannot be laid out', () => {
    expect(() => sheetLayout({ xLabels: [], yLabels: null, xTitle: 'Seed', yTitle: null, imageWidth: 8, imageHeight: 8 })).toThrow('at least one X value');
    expect(() => sheetLayout({ xLabels: ['a'], yLabels: null, xTitle: 'Seed', yTitle: null, imageWidth: 0, imageHeight: 8 })).toThrow('cannot size a sheet');
  });
});

describe('the recipe text and name of a sheet', () => {
  it('appends the axes to the first cell’s parameters as A1111 does for its grids', () => {
    const cell = 'lanterns at dusk\nNegative prompt: blurry\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 100, Size: 256x256';
    const text = sheetParameters(cell, { name: 'Steps', values: ['steps 2', 'steps 3'] }, { name: 'Prompt S/R', values: ['dusk', 'dawn, late'] });
    expect(text).toBe(`${cell}, X Type: Steps, X Values: "steps 2, steps 3", Y Type: Prompt S/R, Y Values: "dusk, \\"dawn, late\\""`);
    const parsed = parseA1111Parameters(text);
    expect(parsed.prompt).toBe('lanterns at dusk');
    expect(parsed.params['X Values']).toBe('steps 2, steps 3');
    expect(parsed.params['Y Values']).toBe('dusk, "dawn, late"');
    expect(axisValuesText(['a', 'b "c"', 'd,e'])).toBe('a, "b ""c""", "d,e"');
    expect(sheetParameters('p\nSteps: 2', { name: 'Prompt S/R', values: ['a\u0000b'] }, null)).toBe('p\nSteps: 2, X Type: Prompt S/R, X Values: ab');
    // A bare prompt keeps its line; the axes get their own.
    expect(sheetParameters('just a prompt', { name: 'Seed', values: ['1'] }, null)).toBe('just a prompt\nX Type: Seed, X Values: 1');
  });

  it('names the file after its axes and the time, and escapes XML', () => {
    expect(sheetFileName('Steps', 'Prompt S/R', new Date(2026, 11, 6, 9, 5))).toBe('xy-steps-by-prompt-s-r-2026-12-06-0905.png');
    expect(sheetFileName('Guidance (CFG)', null, new Date(2026, 0, 2, 23, 59))).toBe('xy-guidance-cfg-2026-01-02-2359.png');
    expect(escapeXml(`<b>"Tom" & 'Jerry'\u0001</b>`)).toBe('&lt;b&gt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&lt;/b&gt;');
  });

  it('the channel refuses cells that do not match the axes', () => {
    const schema = channels['library.exportSheet'].params;
    const ok = schema.safeParse({ x: { name: 'Steps', values: ['2', '3'] }, y: null, cells: ['a', null] });
    expect(ok.success).toBe(true);
    const bad = schema.safeParse({ x: { name: 'Steps', values: ['2', '3'] }, y: { name: 'Seed', values: ['1', '2'] }, cells: ['a', null] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('one cell per X value and Y value');
  });
});

/** A flat-coloured PNG that carries an A1111 `parameters` text, as the studio's own outputs do. */
async function flatPng(width: number, height: number, rgb: [number, number, number], parameters: string): Promise<Buffer> {
  const raw = await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).raw().toBuffer();
  return pilPng({ width, height, rgb: raw, text: [['parameters', parameters]] });
}

/** The mean colour of a box of the sheet, as [r, g, b]. */
async function meanOf(png: Buffer, box: { left: number; top: number; width: number; height: number }): Promise<number[]> {
  // stats() reads the input, not the pipeline: cut the box out first.
  const stats = await sharp(await sharp(png).extract(box).png().toBuffer()).stats();
  return stats.channels.slice(0, 3).map((c) => Math.round(c.mean));
}

describe('a sheet composed from library pictures', () => {
  let w: World;
  let source: SheetSource;
  beforeEach(() => {
    w = makeWorld();
    source = { db: w.db, resolveMedia: (id, variant) => w.library.resolveMedia(id, variant), now: () => new Date(2026, 11, 6, 9, 30) };
  });
  afterEach(async () => {
    await w.close();
  });

  async function picture(rgb: [number, number, number], steps: number): Promise<string> {
    const params = `lanterns at dusk\nSteps: ${steps}, Sampler: Euler, CFG scale: 5, Seed: 100, Size: 96x64, Model: studio-xl`;
    const id = addAsset(w, { bytes: await flatPng(96, 64, rgb, params), prompt: 'lanterns at dusk', seed: 100 });
    w.db.run('UPDATE assets SET width = 96, height = 64, steps = ? WHERE id = ?', steps, id);
    return id;
  }

  it('draws each picture in its cell, a placeholder where a job failed, and carries the recipe', async () => {
    const red = await picture([200, 30, 30], 2);
    const blue = await picture([30, 40, 210], 3);
    const green = await picture([20, 180, 60], 2);
    const params: SheetParams = { x: { name: 'Steps', values: ['steps 2', 'steps 3'] }, y: { name: 'Prompt S/R', values: ['dusk', 'dawn'] }, cells: [red, blue, green, null] };
    const out = await exportSheet(source, params);
    const layout = sheetLayout({ xLabels: params.x.values, yLabels: params.y!.values, xTitle: 'Steps', yTitle: 'Prompt S/R', imageWidth: 96, imageHeight: 64 });
    expect(out.name).toBe('xy-steps-by-prompt-s-r-2026-12-06-0930.png');
    expect([out.width, out.height, out.cellWidth, out.cellHeight]).toEqual([layout.width, layout.height, 96, 64]);
    expect(out.missing).toEqual([]);
    const png = Buffer.from(out.png, 'base64');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', layout.width, layout.height, 3]);
    // The pictures are where the layout says, row by row; the failed cell is the grey placeholder.
    const inner = (i: number) => {
      const c = layout.cells[i]!;
      return { left: c.left + 8, top: c.top + 8, width: c.width - 16, height: c.height - 16 };
    };
    expect(await meanOf(png, inner(0))).toEqual([200, 30, 30]);
    expect(await meanOf(png, inner(1))).toEqual([30, 40, 210]);
    expect(await meanOf(png, inner(2))).toEqual([20, 180, 60]);
    const failed = await meanOf(png, { left: layout.cells[3]!.left, top: layout.cells[3]!.top, width: 6, height: 6 });
    expect(failed).toEqual([212, 212, 212]);
    // Labels are drawn: the header band and the left column hold dark text on white.
    const header = await sharp(await sharp(png).extract({ left: layout.cells[0]!.left, top: layout.titleHeight, width: layout.cellWidth, height: layout.headerHeight }).png().toBuffer()).stats();
    expect(header.channels[0]!.min).toBeLessThan(100);
    const left = await sharp(await sharp(png).extract({ left: 0, top: layout.cells[0]!.top, width: layout.leftWidth, height: layout.cellHeight }).png().toBuffer()).stats();
    expect(left.channels[0]!.min).toBeLessThan(100);
    // The recipe: the first cell's parameters and the axes, as a tEXt chunk.
    const text = readPngMetadata(png).text;
    expect(text.find((t) => t.keyword === 'parameters')?.chunk).toBe('tEXt');
    expect(findText(text, 'parameters')).toBe(
      'lanterns at dusk\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 100, Size: 96x64, Model: studio-xl, X Type: Steps, X Values: "steps 2, steps 3", Y Type: Prompt S/R, Y Values: "dusk, dawn"',
    );
    // Dropped back on the Workspace, it reads as an A1111 picture with the first cell's settings.
    const reading = await readRecipeFile({ name: out.name, size: png.length, head: out.png });
    expect(reading.source).toBe('a1111');
    expect([reading.fields.prompt, reading.fields.steps, reading.fields.seed, reading.fields.guidance]).toEqual(['lanterns at dusk', 2, 100, 5]);
    expect(reading.unused).toEqual(expect.arrayContaining(['X Type', 'X Values', 'Y Type', 'Y Values']));
  });

  it('draws a cell whose file is not on this computer as a placeholder, and says which and why', async () => {
    const here = await picture([120, 120, 20], 2);
    const away = await picture([0, 0, 0], 3);
    rmSync(join(w.layout.library, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', away)!.file_path));
    const out = await exportSheet(source, { x: { name: 'Steps', values: ['steps 2', 'steps 3'] }, y: null, cells: [here, away] });
    expect(out.missing).toEqual([{ index: 1, assetId: away, message: expect.stringContaining('is not on this computer') }]);
    expect(out.missing[0]!.message).toContain('open it in the Library to bring it down');
    const png = Buffer.from(out.png, 'base64');
    const layout = sheetLayout({ xLabels: ['steps 2', 'steps 3'], yLabels: null, xTitle: 'Steps', yTitle: null, imageWidth: 96, imageHeight: 64 });
    expect(await meanOf(png, { left: layout.cells[1]!.left, top: layout.cells[1]!.top, width: 6, height: 6 })).toEqual([212, 212, 212]);
    expect(await meanOf(png, { left: layout.cells[0]!.left + 4, top: layout.cells[0]!.top + 4, width: 20, height: 20 })).toEqual([120, 120, 20]);
  });

  it('refuses a sheet with no picture to draw, with a sentence saying what to do', async () => {
    const gone = await picture([1, 2, 3], 2);
    rmSync(join(w.layout.library, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', gone)!.file_path));
    await expect(exportSheet(source, { x: { name: 'Seed', values: ['seed 1', 'seed 2'] }, y: null, cells: [null, gone] })).rejects.toThrow(
      "none of the sheet's cells has a picture on this computer to draw; wait until at least one cell is done",
    );
  });
});
