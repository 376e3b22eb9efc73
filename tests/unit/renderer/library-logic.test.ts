/**
 * The Library view's pure parts: the filter bar → engine query, multi-select, windowing and
 * keyboard movement in the grid, the store slice, and media URLs for Electron and `studio serve`.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMediaUrls, mediaKey } from '../../../src-renderer/src/api/media.ts';
import { DEFAULT_FILTERS, DEFAULT_SORT, activeFilterCount, isFiltered, localDayStart, toQuery } from '../../../src-renderer/src/features/library/filters.ts';
import { gridLayout, moveFocus, rowCount, scrollToReveal, visibleRows } from '../../../src-renderer/src/features/library/grid-math.ts';
import { EMPTY_SELECTION, applyClick, isSelected, selectAll, selectedCount, toggleOne, without } from '../../../src-renderer/src/features/library/selection.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';
import { LibraryQuerySchema } from '../../../src-preload/contract/library.ts';

describe('filters → query', () => {
  it('asks for everything, newest first, when nothing is set', () => {
    expect(toQuery(DEFAULT_FILTERS, DEFAULT_SORT)).toEqual({ sort: 'date', order: 'desc' });
    expect(isFiltered(DEFAULT_FILTERS)).toBe(false);
  });

  it('turns every control into the engine’s filter, valid under the contract’s schema', () => {
    const q = toQuery(
      {
        search: '  red fox ',
        kind: 'video',
        bucket: 'video_high',
        model: 'wan2.1-t2v-1.3b',
        favorite: true,
        minRating: 3,
        tags: ['keeper', 'client'],
        tagMode: 'any',
        project: 'none',
        from: '2025-03-01',
        to: '2025-03-31',
        trashed: false,
      },
      { sort: 'rating', order: 'desc' },
    );
    expect(q).toMatchObject({
      sort: 'rating',
      order: 'desc',
      search: 'red fox',
      kind: 'video',
      buckets: ['video_high'],
      models: ['wan2.1-t2v-1.3b'],
      favorite: true,
      minRating: 3,
      tags: ['keeper', 'client'],
      tagMode: 'any',
      projectId: null,
    });
    // Whole local days: from midnight of the first to the last millisecond of the last.
    expect(q.from).toBe(new Date(2025, 2, 1).getTime());
    expect(q.to).toBe(new Date(2025, 3, 1).getTime() - 1);
    expect(() => LibraryQuerySchema.parse(q)).not.toThrow();
    expect(toQuery({ ...DEFAULT_FILTERS, project: 'p1', trashed: true }, DEFAULT_SORT)).toMatchObject({ projectId: 'p1', trashed: true });
  });

  it('ignores impossible dates and counts active filters apart from search', () => {
    expect(localDayStart('2025-02-30')).toBeNull();
    expect(localDayStart('')).toBeNull();
    expect(toQuery({ ...DEFAULT_FILTERS, from: '2025-02-30' }, DEFAULT_SORT).from).toBeUndefined();
    expect(activeFilterCount({ ...DEFAULT_FILTERS, search: 'fox', favorite: true, from: '2025-01-01', to: '2025-01-02' })).toBe(2);
    expect(isFiltered({ ...DEFAULT_FILTERS, search: 'fox' })).toBe(true);
  });
});

describe('selection', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `a${i}`);
  const between = (a: number, b: number) => ids.slice(Math.min(a, b), Math.max(a, b) + 1);
  const click = (sel = EMPTY_SELECTION, index: number, mods: { range?: boolean; toggle?: boolean } = {}) =>
    applyClick(sel, { index, id: ids[index]!, range: mods.range ?? false, toggle: mods.toggle ?? false }, between);

  it('click selects one, Ctrl-click toggles, Shift-click selects the run from the anchor', () => {
    let sel = click(undefined, 3);
    expect([...(sel.mode === 'ids' ? sel.ids : [])]).toEqual(['a3']);
    sel = click(sel, 7, { toggle: true });
    expect(selectedCount(sel, 20)).toBe(2);
    sel = click(sel, 3, { toggle: true });
    expect(isSelected(sel, 'a3')).toBe(false);
    // The anchor is now 3 (the last Ctrl-click); Shift-click 0 selects 0..3 and only those.
    sel = click(sel, 0, { range: true });
    expect(sel.mode === 'ids' && [...sel.ids].sort()).toEqual(['a0', 'a1', 'a2', 'a3']);
    // Shift-click again from the same anchor redraws the run.
    sel = click(sel, 5, { range: true });
    expect(sel.mode === 'ids' && [...sel.ids].sort()).toEqual(['a3', 'a4', 'a5']);
    // Ctrl+Shift adds a run to what is selected.
    sel = click(click(sel, 10, { toggle: true }), 12, { range: true, toggle: true });
    expect(selectedCount(sel, 20)).toBe(6);
  });

  it('a Shift-click over rows not loaded yet selects the clicked one alone', () => {
    const sel = applyClick(click(undefined, 0), { index: 15, id: 'a15', range: true, toggle: false }, () => null);
    expect(sel.mode === 'ids' && [...sel.ids]).toEqual(['a15']);
  });

  it('select all covers every match, minus the ones toggled off, and survives deletes', () => {
    let sel = selectAll();
    expect(selectedCount(sel, 100_000)).toBe(100_000);
    expect(isSelected(sel, 'never-loaded')).toBe(true);
    sel = toggleOne(sel, 2, 'a2');
    expect(isSelected(sel, 'a2')).toBe(false);
    expect(selectedCount(sel, 100_000)).toBe(99_999);
    expect(without(click(click(undefined, 1), 2, { toggle: true }), ['a1']).mode === 'ids').toBe(true);
    expect(selectedCount(without(click(click(undefined, 1), 2, { toggle: true }), ['a1']), 20)).toBe(1);
  });
});

describe('windowing', () => {
  it('fits as many fixed-size columns as the width allows, cells stretched to fill it', () => {
    expect(gridLayout(1000, 172, 10)).toEqual({ columns: 5, cellSize: 192, rowHeight: 202, gap: 10 });
    expect(gridLayout(100, 172, 10).columns).toBe(1);
    expect(rowCount(100_000, 5)).toBe(20_000);
    expect(rowCount(0, 5)).toBe(0);
  });

  it('draws only the rows in view plus the overscan, at any depth', () => {
    expect(visibleRows(0, 800, 200, 20_000, 2)).toEqual({ first: 0, last: 5 });
    expect(visibleRows(2_000_000, 800, 200, 20_000, 2)).toEqual({ first: 9998, last: 10_005 });
    expect(visibleRows(10_000_000, 800, 200, 20_000, 2)).toEqual({ first: 19_997, last: 19_999 });
    expect(visibleRows(0, 800, 200, 0, 2)).toEqual({ first: 0, last: -1 });
  });

  it('moves focus like a grid: columns kept on ↑↓, stops at the ends, into the short last row', () => {
    // 23 items in 5 columns: the last row holds 20, 21, 22.
    expect(moveFocus(-1, 'ArrowRight', 5, 23, 3)).toBe(0);
    expect(moveFocus(7, 'ArrowDown', 5, 23, 3)).toBe(12);
    expect(moveFocus(17, 'ArrowDown', 5, 23, 3)).toBe(22);
    expect(moveFocus(21, 'ArrowDown', 5, 23, 3)).toBe(21);
    expect(moveFocus(2, 'ArrowUp', 5, 23, 3)).toBe(2);
    expect(moveFocus(0, 'ArrowLeft', 5, 23, 3)).toBe(0);
    expect(moveFocus(22, 'ArrowRight', 5, 23, 3)).toBe(22);
    expect(moveFocus(1, 'PageDown', 5, 23, 3)).toBe(16);
    expect(moveFocus(9, 'End', 5, 23, 3)).toBe(22);
    expect(moveFocus(9, 'Home', 5, 23, 3)).toBe(0);
    expect(moveFocus(0, 'ArrowDown', 5, 0, 3)).toBe(-1);
  });

  it('scrolls just enough to reveal a row', () => {
    expect(scrollToReveal(0, 500, 800, 200)).toBe(0);
    expect(scrollToReveal(3, 0, 800, 200)).toBe(0);
    expect(scrollToReveal(4, 0, 800, 200, 10)).toBe(190);
    expect(scrollToReveal(4, 300, 800, 200)).toBe(300);
  });
});

describe('library slice', () => {
  it('a new question starts at the top with nothing selected, and keeps the place otherwise', () => {
    const store = createStudioStore();
    const s = () => store.getState();
    s().setLibrarySelection(selectAll());
    s().setLibraryFocus(40);
    s().setLibraryScrollTop(5000);
    s().setLibraryLayout('table');
    expect(s().libraryScrollTop).toBe(5000);
    s().setLibraryFilters({ favorite: true });
    expect(s()).toMatchObject({ libraryFocus: -1, libraryScrollTop: 0, libraryLayout: 'table' });
    expect(selectedCount(s().librarySelection, 10)).toBe(0);
    s().setLibraryFilters({ trashed: true, kind: 'video' });
    s().clearLibraryFilters();
    expect(s().libraryFilters).toEqual({ ...DEFAULT_FILTERS, trashed: true });
    s().addLibraryModels(['b', 'a', 'b']);
    s().addLibraryModels(['a', 'c']);
    expect(s().libraryModels).toEqual(['a', 'b', 'c']);
  });
});

describe('media URLs', () => {
  it('inside Electron: the studio-media:// URL itself', () => {
    const urls = createMediaUrls({ kind: 'scheme' });
    expect(urls.mediaUrl('abc', 'thumb')).toBe('studio-media://asset/abc/thumb');
    expect(urls.displayUrl('studio-media://asset/abc/original')).toBe('studio-media://asset/abc/original');
  });

  it('under studio serve: the server’s route with the media key, never the session token', () => {
    const token = 'session-token-xyz';
    const urls = createMediaUrls({ kind: 'http', baseUrl: 'http://127.0.0.1:5170/', token });
    const key = createHash('sha256').update(`studio-media\n${token}`).digest('base64url');
    expect(mediaKey(token)).toBe(key);
    expect(urls.mediaUrl('abc', 'original')).toBe(`http://127.0.0.1:5170/studio-media/asset/abc/original?key=${key}`);
    expect(urls.displayUrl('studio-media://asset/abc/thumb')).toBe(`http://127.0.0.1:5170/studio-media/asset/abc/thumb?key=${key}`);
    expect(urls.mediaUrl('abc', 'original')).not.toContain(token);
    // Anything else is left alone (data: previews, for instance).
    expect(urls.displayUrl('data:image/png;base64,xx')).toBe('data:image/png;base64,xx');
  });
});
