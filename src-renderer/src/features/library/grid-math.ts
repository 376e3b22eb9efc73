/**
 * Windowing for the Library's grid and table: fixed-size cells, so which rows to draw is arithmetic
 * on the scroll offset and nothing is measured per item. Pure, so it is tested without a browser.
 */

export interface GridLayout {
  readonly columns: number;
  /** Width (and height) of a square cell, px. */
  readonly cellSize: number;
  /** Cell plus the gap below it, px. */
  readonly rowHeight: number;
  readonly gap: number;
}

/** As many columns of at least `minCell` px as fit `width`, cells stretched to fill the row. */
export function gridLayout(width: number, minCell: number, gap: number): GridLayout {
  const usable = Math.max(0, width);
  const columns = Math.max(1, Math.floor((usable + gap) / (minCell + gap)));
  const cellSize = Math.max(1, Math.floor((usable - gap * (columns - 1)) / columns));
  return { columns, cellSize, rowHeight: cellSize + gap, gap };
}

export interface RowWindow {
  /** First and last row to draw (inclusive); last < first when there is nothing to draw. */
  readonly first: number;
  readonly last: number;
}

/** The rows a viewport shows at `scrollTop`, plus `overscan` rows either side, within [0, rowCount). */
export function visibleRows(scrollTop: number, viewportHeight: number, rowHeight: number, rowCount: number, overscan: number): RowWindow {
  if (rowCount <= 0 || rowHeight <= 0) return { first: 0, last: -1 };
  const top = Math.max(0, scrollTop);
  const first = Math.min(rowCount - 1, Math.floor(top / rowHeight));
  const last = Math.min(rowCount - 1, Math.floor((top + Math.max(0, viewportHeight) - 1) / rowHeight));
  return { first: Math.max(0, first - overscan), last: Math.min(rowCount - 1, Math.max(first, last) + overscan) };
}

export function rowCount(items: number, columns: number): number {
  return items <= 0 ? 0 : Math.ceil(items / Math.max(1, columns));
}

/**
 * The scrollTop that brings `row` fully into view with the least movement (unchanged when it
 * already is).
 */
export function scrollToReveal(row: number, scrollTop: number, viewportHeight: number, rowHeight: number, gap = 0): number {
  const top = row * rowHeight;
  const bottom = top + rowHeight - gap;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

export type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown';

export function isNavKey(key: string): key is NavKey {
  return ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'].includes(key);
}

/**
 * Where focus goes from `index` on a navigation key, in a grid of `columns` with `count` items and
 * `pageRows` rows per screen. Up/down keep the column; moving past either end stops there.
 */
export function moveFocus(index: number, key: NavKey, columns: number, count: number, pageRows: number): number {
  if (count <= 0) return -1;
  const cols = Math.max(1, columns);
  const clamp = (i: number) => Math.min(count - 1, Math.max(0, i));
  const at = index < 0 ? 0 : clamp(index);
  if (index < 0) return 0;
  switch (key) {
    case 'ArrowLeft':
      return clamp(at - 1);
    case 'ArrowRight':
      return clamp(at + 1);
    case 'ArrowUp':
      return at - cols >= 0 ? at - cols : at;
    case 'ArrowDown':
      // Into the last, shorter row: the last item rather than nothing.
      return at + cols < count ? at + cols : Math.floor(at / cols) < Math.floor((count - 1) / cols) ? count - 1 : at;
    case 'PageUp':
      return clamp(at - cols * Math.max(1, pageRows));
    case 'PageDown':
      return clamp(at + cols * Math.max(1, pageRows));
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
  }
}
