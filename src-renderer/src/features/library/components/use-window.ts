/**
 * The scroll container of a windowed list: its size (ResizeObserver), the rows to draw for the
 * current scroll offset (state changes only when that window moves, not on every scroll event),
 * the place kept across visits, and the jump back to the top when the question changes.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';
import { useStudio } from '../../../store.ts';
import { visibleRows } from '../grid-math.ts';
import type { RowWindow } from '../grid-math.ts';

/** Faster than this (px/ms, over a row a frame) the list is being skimmed, not read. */
export const SKIM_PX_PER_MS = 12;
/** Skimming ends this long after the last fast scroll step. */
const SKIM_SETTLE_MS = 140;

export interface WindowState {
  readonly width: number;
  readonly height: number;
  readonly rows: RowWindow;
  /**
   * True while the user flings or drags the scroll bar faster than anyone can look: the list then
   * draws placeholders and fetches nothing, and catches up as soon as the scrolling slows.
   */
  readonly skimming: boolean;
  /** Called by the list's onScroll. */
  onScroll(): void;
  /** Moves the scroll offset (keyboard focus, preview navigation). */
  scrollTo(top: number): void;
}

/** Row height and row count for a container width (the grid's columns depend on it). */
export type LayoutOf = (width: number) => { readonly rowHeight: number; readonly rowCount: number };

export function useWindow(ref: RefObject<HTMLDivElement | null>, layoutOf: LayoutOf, overscan: number): WindowState {
  const [size, setSize] = useState({ width: 0, height: 0 });
  const { rowHeight, rowCount } = layoutOf(size.width);
  const [rows, setRows] = useState<RowWindow>({ first: 0, last: -1 });
  const [skimming, setSkimming] = useState(false);
  const current = useRef(rows);
  const motion = useRef({ top: 0, at: 0, timer: null as ReturnType<typeof setTimeout> | null });
  const geometry = useRef({ rowHeight, rowCount, overscan, height: 0 });
  geometry.current = { rowHeight, rowCount, overscan, height: size.height };

  const recompute = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const g = geometry.current;
    const now = performance.now();
    const m = motion.current;
    const speed = m.at > 0 ? Math.abs(el.scrollTop - m.top) / Math.max(1, now - m.at) : 0;
    m.top = el.scrollTop;
    m.at = now;
    if (speed > SKIM_PX_PER_MS) {
      setSkimming(true);
      if (m.timer !== null) clearTimeout(m.timer);
      m.timer = setTimeout(() => {
        m.timer = null;
        setSkimming(false);
      }, SKIM_SETTLE_MS);
    }
    const next = visibleRows(el.scrollTop, g.height, g.rowHeight, g.rowCount, g.overscan);
    if (next.first !== current.current.first || next.last !== current.current.last) {
      current.current = next;
      setRows(next);
    }
  }, [ref]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize((prev) => (prev.width === el.clientWidth && prev.height === el.clientHeight ? prev : { width: el.clientWidth, height: el.clientHeight }));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    // Back where the user left it.
    el.scrollTop = useStudio.getState().libraryScrollTop;
    const m = motion.current;
    return () => {
      observer.disconnect();
      if (m.timer !== null) clearTimeout(m.timer);
      useStudio.getState().setLibraryScrollTop(el.scrollTop);
    };
  }, [ref]);

  // Geometry changed (resize, more rows, another layout): the window may have too.
  useLayoutEffect(recompute, [recompute, rowHeight, rowCount, overscan, size.height]);

  // A new question starts at the top.
  const filters = useStudio((s) => s.libraryFilters);
  const sort = useStudio((s) => s.librarySort);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (ref.current) ref.current.scrollTop = 0;
  }, [filters, sort, ref]);

  const scrollTo = useCallback(
    (top: number) => {
      if (ref.current && ref.current.scrollTop !== top) ref.current.scrollTop = top;
      recompute();
    },
    [recompute, ref],
  );

  return { width: size.width, height: size.height, rows, skimming, onScroll: recompute, scrollTo };
}
