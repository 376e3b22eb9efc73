/**
 * Where everything goes on an exported X/Y sheet (sheet.ts draws it): pure maths, so the tests can
 * check it without drawing.
 *
 * The picture reads as A1111/Forge's X/Y plot grid reads: the X values across the top, the Y values
 * down the left, one cell per job. Above the header sits one line of axis titles ("X: Steps" over
 * the cells, "Y: Seed" over the left column). Every cell has one size, the reference picture's (the
 * first cell that has one), never enlarged, and made smaller together only as much as it takes for
 * the whole sheet to stay within SHEET_MAX_SIDE pixels a side: a 6×6 sheet of 1024² pictures keeps
 * them at 1024², an 8×8 one shrinks them to about 960².
 *
 * Text size follows the cell size (A1111 sizes its labels from the picture too), and the labels are
 * wrapped on words to their column, with a width per character measured on DejaVu Sans (its
 * widest common letters: so a label never runs into its neighbour, whichever of DejaVu Sans, Arial
 * or the system sans-serif draws it).
 */

/** The largest width or height an exported sheet may have, in pixels. */
export const SHEET_MAX_SIDE = 8192;
/** The smallest and largest label font size, in pixels. */
export const SHEET_FONT_MIN = 12;
export const SHEET_FONT_MAX = 64;
/** Lines a label may take before it is cut with an ellipsis. */
export const SHEET_LABEL_LINES = 3;
/** Width of one character for wrapping, as a fraction of the font size (DejaVu Sans averages ~0.55). */
export const CHAR_WIDTH_EM = 0.62;

export interface SheetLayoutInput {
  /** X values (columns), Y values (rows; empty or null for a one-axis sheet). */
  readonly xLabels: readonly string[];
  readonly yLabels: readonly string[] | null;
  readonly xTitle: string;
  readonly yTitle: string | null;
  /** The reference picture's size: cells have its aspect and, when it fits, its size. */
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** Default SHEET_MAX_SIDE (tests use smaller caps). */
  readonly maxSide?: number;
}

export interface SheetRect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** A label, wrapped, and the box it is centred in. */
export interface SheetLabel {
  readonly lines: readonly string[];
  readonly box: SheetRect;
}

export interface SheetLayout {
  readonly width: number;
  readonly height: number;
  readonly cols: number;
  readonly rows: number;
  readonly cellWidth: number;
  readonly cellHeight: number;
  /** Space between cells. */
  readonly gap: number;
  readonly fontSize: number;
  readonly lineHeight: number;
  /** The axis titles band, the header row of X values, the left column of Y values (0 wide without Y). */
  readonly titleHeight: number;
  readonly headerHeight: number;
  readonly leftWidth: number;
  /** Each cell's box, row by row (X across), as the sheet's cells are listed. */
  readonly cells: readonly SheetRect[];
  readonly xLabels: readonly SheetLabel[];
  readonly yLabels: readonly SheetLabel[];
  readonly xTitle: SheetLabel;
  readonly yTitle: SheetLabel | null;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** How wide a line is taken to be at this font size. */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * CHAR_WIDTH_EM;
}

/**
 * Words into lines of at most `width` pixels; a word longer than a line is cut; past `maxLines`
 * the last line ends in an ellipsis. Always at least one line (an empty label is one empty line).
 */
export function wrapLabel(text: string, width: number, fontSize: number, maxLines = SHEET_LABEL_LINES): string[] {
  const perLine = Math.max(1, Math.floor(width / (fontSize * CHAR_WIDTH_EM)));
  const lines: string[] = [];
  let current = '';
  const push = (line: string) => lines.push(line);
  for (const word of text.trim().split(/\s+/).filter((w) => w !== '')) {
    let rest = [...word];
    if (current !== '' && [...current].length + 1 + rest.length <= perLine) {
      current += ` ${word}`;
      continue;
    }
    if (current !== '') push(current);
    current = '';
    while (rest.length > perLine) {
      push(rest.slice(0, perLine).join(''));
      rest = rest.slice(perLine);
    }
    current = rest.join('');
  }
  if (current !== '' || lines.length === 0) push(current);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = [...kept[maxLines - 1]!];
  kept[maxLines - 1] = `${last.slice(0, Math.max(0, Math.min(last.length, perLine - 1))).join('')}…`;
  return kept;
}

/** The font size for a cell of this size: a twentieth of its shorter side, within the bounds. */
export function fontSizeFor(cellWidth: number, cellHeight: number): number {
  return clamp(Math.round(Math.min(cellWidth, cellHeight) * 0.05), SHEET_FONT_MIN, SHEET_FONT_MAX);
}

/** The layout at one cell width (the height follows the aspect); null when the input is empty. */
function layoutAt(input: SheetLayoutInput, cellWidth: number): SheetLayout {
  const cols = input.xLabels.length;
  const yLabels = input.yLabels && input.yLabels.length > 0 ? input.yLabels : null;
  const rows = yLabels ? yLabels.length : 1;
  const cellHeight = Math.max(1, Math.round((cellWidth * input.imageHeight) / input.imageWidth));
  const fontSize = fontSizeFor(cellWidth, cellHeight);
  const lineHeight = Math.round(fontSize * 1.25);
  const pad = Math.round(fontSize * 0.5);
  const gap = Math.max(2, Math.round(Math.min(cellWidth, cellHeight) * 0.01));

  // The left column: as wide as its longest label needs, between 30 % and 75 % of a cell (or ten characters, for small cells).
  let leftWidth = 0;
  if (yLabels) {
    const longest = Math.max(...[...yLabels, input.yTitle ?? ''].map((l) => textWidth(l, fontSize)));
    leftWidth = Math.round(clamp(longest + 2 * pad, Math.max(cellWidth * 0.3, fontSize * 4), Math.max(cellWidth * 0.75, fontSize * 10)));
  }
  const xWrapped = input.xLabels.map((l) => wrapLabel(l, cellWidth - 2 * pad, fontSize));
  const headerLines = Math.max(1, ...xWrapped.map((l) => l.length));
  const headerHeight = headerLines * lineHeight + 2 * pad;
  const titleHeight = lineHeight + 2 * pad;
  const top = titleHeight + headerHeight;
  const width = leftWidth + cols * cellWidth + (cols - 1) * gap;
  const height = top + rows * cellHeight + (rows - 1) * gap;

  const cells: SheetRect[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      cells.push({ left: leftWidth + c * (cellWidth + gap), top: top + r * (cellHeight + gap), width: cellWidth, height: cellHeight });
    }
  }
  const xLabelBoxes = xWrapped.map((lines, c) => ({
    lines,
    box: { left: leftWidth + c * (cellWidth + gap) + pad, top: titleHeight + pad, width: cellWidth - 2 * pad, height: headerHeight - 2 * pad },
  }));
  const yLabelBoxes = (yLabels ?? []).map((label, r) => ({
    lines: wrapLabel(label, leftWidth - 2 * pad, fontSize, Math.max(1, Math.floor((cellHeight - 2 * pad) / lineHeight))),
    box: { left: pad, top: top + r * (cellHeight + gap) + pad, width: leftWidth - 2 * pad, height: cellHeight - 2 * pad },
  }));
  const titleText = `X: ${input.xTitle}`;
  const xTitle = {
    lines: wrapLabel(titleText, cols * cellWidth + (cols - 1) * gap - 2 * pad, fontSize, 1),
    box: { left: leftWidth + pad, top: pad, width: cols * cellWidth + (cols - 1) * gap - 2 * pad, height: lineHeight },
  };
  const yTitle = yLabels
    ? {
        lines: wrapLabel(`Y: ${input.yTitle ?? ''}`, leftWidth - 2 * pad, fontSize, Math.max(1, Math.floor((titleHeight + headerHeight - 2 * pad) / lineHeight))),
        box: { left: pad, top: pad, width: leftWidth - 2 * pad, height: titleHeight + headerHeight - 2 * pad },
      }
    : null;
  return {
    width,
    height,
    cols,
    rows,
    cellWidth,
    cellHeight,
    gap,
    fontSize,
    lineHeight,
    titleHeight,
    headerHeight,
    leftWidth,
    cells,
    xLabels: xLabelBoxes,
    yLabels: yLabelBoxes,
    xTitle,
    yTitle,
  };
}

/**
 * The sheet's layout: the largest cell width up to the picture's own for which the whole sheet fits
 * within `maxSide` (every part grows with the cell, so a binary search over the width finds it).
 */
export function sheetLayout(input: SheetLayoutInput): SheetLayout {
  const maxSide = input.maxSide ?? SHEET_MAX_SIDE;
  if (input.xLabels.length === 0) throw new RangeError('a sheet needs at least one X value');
  if (!(input.imageWidth >= 1 && input.imageHeight >= 1)) throw new RangeError(`a picture of ${input.imageWidth}×${input.imageHeight} cannot size a sheet`);
  const fits = (l: SheetLayout) => l.width <= maxSide && l.height <= maxSide;
  const native = Math.round(input.imageWidth);
  const full = layoutAt(input, native);
  if (fits(full)) return full;
  let lo = 1;
  let hi = native;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(layoutAt(input, mid))) lo = mid;
    else hi = mid - 1;
  }
  const best = layoutAt(input, lo);
  if (!fits(best)) {
    throw new RangeError(`a sheet of ${input.xLabels.length}×${input.yLabels?.length ?? 1} cells cannot fit within ${maxSide} pixels a side`);
  }
  return best;
}
