/**
 * `library.exportSheet`: an X/Y sheet as one PNG, labels and all, as A1111/Forge save their X/Y plot
 * grids — the X values across the top, the Y values down the left, axis titles, every picture at one
 * cell size (sheet-layout.ts), and a grey "failed" placeholder for a cell without a picture.
 *
 * Text is SVG rendered by sharp (libvips through librsvg), in DejaVu Sans, Arial or the system
 * sans-serif, whichever the machine has. The PNG carries the sheet's recipe as A1111 writes a grid's:
 * a `parameters` text with the first drawn cell's settings (its own `parameters`, as its file holds
 * them) followed by `X Type: …, X Values: "…"` (and `Y Type`, `Y Values`), so A1111, image browsers
 * and this studio's "drop a picture to reuse its recipe" read the shared prompt and settings from it.
 *
 * A cell whose file is not on this computer (a picture made on another desktop whose original is
 * still only in the cloud, or deleted since) is drawn as a placeholder too, and the answer lists it
 * with a sentence, so the Workspace says which cells are missing and how to bring them down: a sheet
 * is a comparison, and most of it is still worth having.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import type { ParamsOut } from '../../../src-preload/contract/channels.ts';
import type { MediaVariant, SheetExport } from '../../../src-preload/contract/library.ts';
import { buildA1111Parameters, quoteA1111Value } from '../media/a1111.ts';
import { concatBytes, encodeTextChunk, findText, PNG_SIGNATURE, readPngChunks, readPngMetadata } from '../media/png-chunks.ts';
import { DEFAULT_SOFTWARE, PARAMETERS_KEYWORD, SOFTWARE_KEYWORD } from '../media/png-generated.ts';
import { samplerLabels } from '../media/recipe.ts';
import { MEDIA_LIMITS } from './metadata/read-media.ts';
import { slugForFile } from './export.ts';
import { sheetLayout } from './sheet-layout.ts';
import type { SheetLabel, SheetLayout, SheetRect } from './sheet-layout.ts';

export type SheetParams = ParamsOut<'library.exportSheet'>;

export interface SheetSource {
  readonly db: Database;
  /** The asset's file, checked inside the library root; null when it is not on this computer. */
  readonly resolveMedia: (id: string, variant: MediaVariant) => Promise<{ readonly path: string } | null>;
  /** For the file name's date (tests pin it). */
  readonly now?: () => Date;
}

export const SHEET_FONT_FAMILY = 'DejaVu Sans, Arial, sans-serif';
const BACKGROUND = { r: 255, g: 255, b: 255 };
const TEXT = '#111111';
const PLACEHOLDER_FILL = '#d4d4d4';
const PLACEHOLDER_TEXT = '#4a4a4a';

interface CellRow {
  id: string;
  kind: string;
  width: number | null;
  height: number | null;
  prompt: string | null;
  negative_prompt: string | null;
  seed: number | null;
  steps: number | null;
  guidance: number | null;
  scheduler: string | null;
  model: string | null;
}

/** A cell as it will be drawn: a picture's file, or a placeholder with its word and the reason. */
type Cell =
  | { readonly kind: 'picture'; readonly row: CellRow; readonly path: string }
  | { readonly kind: 'placeholder'; readonly word: string; readonly assetId: string | null; readonly message: string | null };

/** Text as XML character data or an attribute value: the five specials escaped, characters XML forbids dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<text>` elements for a label centred in its box (or starting at its left edge). */
function labelSvg(label: SheetLabel, layout: SheetLayout, origin: { left: number; top: number }, options: { anchor?: 'middle' | 'start'; fill?: string; bold?: boolean } = {}): string {
  const anchor = options.anchor ?? 'middle';
  const { box, lines } = label;
  const blockHeight = lines.length * layout.lineHeight;
  const firstBaseline = box.top - origin.top + (box.height - blockHeight) / 2 + layout.lineHeight * 0.5 + layout.fontSize * 0.36;
  const x = (anchor === 'middle' ? box.left + box.width / 2 : box.left) - origin.left;
  return lines
    .map(
      (line, i) =>
        `<text x="${x.toFixed(1)}" y="${(firstBaseline + i * layout.lineHeight).toFixed(1)}" text-anchor="${anchor}"${options.bold ? ' font-weight="bold"' : ''} fill="${options.fill ?? TEXT}">${escapeXml(line)}</text>`,
    )
    .join('');
}

function svg(width: number, height: number, fontSize: number, body: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${escapeXml(SHEET_FONT_FAMILY)}" font-size="${fontSize}">${body}</svg>`,
  );
}

function placeholderSvg(layout: SheetLayout, rect: SheetRect, word: string): Buffer {
  const label: SheetLabel = { lines: [word], box: { left: 0, top: 0, width: rect.width, height: rect.height } };
  return svg(rect.width, rect.height, layout.fontSize, `<rect width="${rect.width}" height="${rect.height}" fill="${PLACEHOLDER_FILL}"/>${labelSvg(label, layout, { left: 0, top: 0 }, { fill: PLACEHOLDER_TEXT })}`);
}

/** A1111's X/Y values as one text: comma-separated, a value holding a comma or a quote in CSV quotes. */
export function axisValuesText(values: readonly string[]): string {
  return values.map((v) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(', ');
}

/** The sheet's `parameters`: the first drawn cell's, then the axes as A1111 appends them to a grid's. */
export function sheetParameters(cellParameters: string, x: { name: string; values: readonly string[] }, y: { name: string; values: readonly string[] } | null): string {
  const axes: [string, string][] = [
    ['X Type', x.name],
    ['X Values', axisValuesText(x.values)],
    ...(y ? ([['Y Type', y.name], ['Y Values', axisValuesText(y.values)]] as [string, string][]) : []),
  ];
  // PNG text cannot hold NUL: a value typed with one loses it here rather than failing the export.
  const tail = axes.map(([k, v]) => `${k}: ${quoteA1111Value(v.replace(/\u0000/g, ''))}`).join(', ');
  const text = cellParameters.replace(/\s+$/, '');
  const lastLine = text.slice(text.lastIndexOf('\n') + 1);
  // A text whose last line is not a `Key: value` line (a bare prompt) gets the axes on a line of their own.
  return /^\s*[\p{L}\p{N}_][\p{L}\p{N}_ \-/]+:/u.test(lastLine) && text.includes('\n') ? `${text}, ${tail}` : `${text}\n${tail}`;
}

/** The cell's own `parameters` text, as its file holds it; rebuilt from the library's row when the file has none. */
async function cellParameters(cell: Extract<Cell, { kind: 'picture' }>): Promise<string> {
  try {
    const bytes = await readFile(cell.path);
    const text = findText(readPngMetadata(bytes, { maxTextBytes: MEDIA_LIMITS.maxTextBytes }).text, PARAMETERS_KEYWORD);
    if (text && text.trim() !== '') return text;
  } catch {
    // Not a PNG, or no readable text: the row says the same settings.
  }
  const r = cell.row;
  const labels = samplerLabels(r.scheduler ?? '');
  return buildA1111Parameters({
    prompt: r.prompt ?? '',
    negativePrompt: r.negative_prompt ?? undefined,
    steps: r.steps ?? 0,
    sampler: labels.sampler ?? r.scheduler ?? 'Euler',
    scheduleType: labels.scheduleType ?? undefined,
    cfgScale: r.guidance ?? 0,
    seed: r.seed ?? 0,
    width: r.width ?? 0,
    height: r.height ?? 0,
    model: r.model ?? undefined,
  });
}

/** The PNG with text chunks put right after its header, where A1111's (Pillow's) writer puts them. */
export function withTextChunks(png: Uint8Array, texts: readonly { keyword: string; text: string }[]): Uint8Array {
  const chunks = readPngChunks(png);
  const ihdr = chunks[0]!;
  const afterHeader = ihdr.offset + 12 + ihdr.data.byteLength;
  return concatBytes([PNG_SIGNATURE, png.subarray(8, afterHeader), ...texts.map((t) => encodeTextChunk(t)), png.subarray(afterHeader)]);
}

/** `xy-steps-by-seed-2026-12-06-0931.png` (local time). */
export function sheetFileName(x: string, y: string | null, at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}-${two(at.getHours())}${two(at.getMinutes())}`;
  const slug = (s: string) => slugForFile(s, 40).toLowerCase();
  return `xy-${slug(x)}${y ? `-by-${slug(y)}` : ''}-${date}.png`;
}

async function readCells(source: SheetSource, ids: readonly (string | null)[]): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const id of ids) {
    if (id === null) {
      cells.push({ kind: 'placeholder', word: 'failed', assetId: null, message: null });
      continue;
    }
    const row = source.db.get<CellRow>(
      'SELECT id, kind, width, height, prompt, negative_prompt, seed, steps, guidance, scheduler, model FROM assets WHERE id = ?',
      id,
    );
    if (!row) {
      cells.push({ kind: 'placeholder', word: 'missing', assetId: id, message: `asset ${id} is no longer in the library (deleted)` });
      continue;
    }
    if (row.kind !== 'image') {
      cells.push({ kind: 'placeholder', word: 'video', assetId: id, message: `asset ${id} is a video; a sheet draws pictures only` });
      continue;
    }
    const media = await source.resolveMedia(id, 'original');
    if (!media) {
      cells.push({
        kind: 'placeholder',
        word: 'not here',
        assetId: id,
        message: `the file of asset ${id} is not on this computer (made on another desktop and still only in the cloud, or removed): open it in the Library to bring it down, then export again`,
      });
      continue;
    }
    cells.push({ kind: 'picture', row, path: media.path });
  }
  return cells;
}

/** Composes the sheet's PNG. Refuses when no cell has a picture to draw. */
export async function exportSheet(source: SheetSource, params: SheetParams): Promise<SheetExport> {
  const y = params.y ?? null;
  const cells = await readCells(source, params.cells);
  const missing: { index: number; assetId: string | null; message: string }[] = [];
  // The reference size: the first picture's, read from its file when the row does not say.
  let reference: { width: number; height: number } | null = null;
  for (let i = 0; i < cells.length && !reference; i++) {
    const cell = cells[i]!;
    if (cell.kind !== 'picture') continue;
    if (cell.row.width && cell.row.height) reference = { width: cell.row.width, height: cell.row.height };
    else {
      const meta = await sharp(cell.path, { limitInputPixels: MEDIA_LIMITS.maxPixels })
        .metadata()
        .catch(() => null);
      if (meta?.width && meta.height) reference = { width: meta.width, height: meta.height };
    }
  }
  if (!reference) {
    throw new StudioError(
      'invalid_params',
      "none of the sheet's cells has a picture on this computer to draw; wait until at least one cell is done (or bring the pictures down from the cloud in the Library) and export again",
      { field: 'cells' },
    );
  }
  const layout = sheetLayout({
    xLabels: params.x.values,
    yLabels: y?.values ?? null,
    xTitle: params.x.name,
    yTitle: y?.name ?? null,
    imageWidth: reference.width,
    imageHeight: reference.height,
  });

  const overlays: OverlayOptions[] = [];
  let firstPicture: Extract<Cell, { kind: 'picture' }> | null = null;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    const rect = layout.cells[i]!;
    if (cell.kind === 'picture') {
      try {
        const { data, info } = await sharp(cell.path, { limitInputPixels: MEDIA_LIMITS.maxPixels, failOn: 'error' })
          .flatten({ background: BACKGROUND })
          .resize(rect.width, rect.height, { fit: 'contain', background: BACKGROUND })
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        overlays.push({ input: data, raw: { width: info.width, height: info.height, channels: info.channels as 3 }, left: rect.left, top: rect.top });
        firstPicture ??= cell;
        continue;
      } catch (error) {
        missing.push({ index: i, assetId: cell.row.id, message: `the file of asset ${cell.row.id} could not be read (${(error as Error).message}); run \`studio library check\`` });
        overlays.push({ input: placeholderSvg(layout, rect, 'unreadable'), left: rect.left, top: rect.top });
        continue;
      }
    }
    overlays.push({ input: placeholderSvg(layout, rect, cell.word), left: rect.left, top: rect.top });
    if (cell.message) missing.push({ index: i, assetId: cell.assetId, message: cell.message });
  }
  if (!firstPicture) {
    throw new StudioError('export_failed', `none of the sheet's pictures could be read: ${missing.map((m) => m.message).join('; ')}`, { field: 'cells' });
  }

  // The header band (axis titles and X values) across the top, the Y values down the left.
  const top = layout.titleHeight + layout.headerHeight;
  const header = [labelSvg(layout.xTitle, layout, { left: 0, top: 0 }, { anchor: 'start', bold: true }), ...layout.xLabels.map((l) => labelSvg(l, layout, { left: 0, top: 0 }))];
  if (layout.yTitle) header.push(labelSvg(layout.yTitle, layout, { left: 0, top: 0 }, { bold: true }));
  overlays.push({ input: svg(layout.width, top, layout.fontSize, header.join('')), left: 0, top: 0 });
  if (layout.leftWidth > 0) {
    const left = layout.yLabels.map((l) => labelSvg(l, layout, { left: 0, top }));
    overlays.push({ input: svg(layout.leftWidth, layout.height - top, layout.fontSize, left.join('')), left: 0, top });
  }

  let file: Uint8Array;
  try {
    const png = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: BACKGROUND } })
      .composite(overlays)
      // Compositing adds an alpha channel; a sheet is opaque, as A1111's are (RGB, a quarter smaller).
      .removeAlpha()
      .png({ compressionLevel: 6 })
      .toBuffer();
    const parameters = sheetParameters(await cellParameters(firstPicture), params.x, y);
    file = withTextChunks(png, [
      { keyword: PARAMETERS_KEYWORD, text: parameters },
      { keyword: SOFTWARE_KEYWORD, text: DEFAULT_SOFTWARE },
    ]);
  } catch (error) {
    throw new StudioError('export_failed', `the sheet of ${layout.width}×${layout.height} could not be drawn (${(error as Error).message}); try again, or with fewer cells`, {
      cause: error,
    });
  }
  return {
    name: sheetFileName(params.x.name, y?.name ?? null, (source.now ?? (() => new Date()))()),
    png: Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString('base64'),
    width: layout.width,
    height: layout.height,
    cellWidth: layout.cellWidth,
    cellHeight: layout.cellHeight,
    missing,
  };
}
