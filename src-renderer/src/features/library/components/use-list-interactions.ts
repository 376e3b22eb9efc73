/**
 * Pointer and keyboard handling shared by the grid and the table. Focus stays on the list element
 * (the focused cell is named by aria-activedescendant), so windowing can replace cells freely.
 *
 *   click            select one          ←↑→↓ Home End PgUp PgDn   move focus (Shift extends)
 *   Ctrl/Cmd-click   toggle one          Space    toggle the focused one
 *   Shift-click      select the run      Enter    open the preview
 *   double-click     open the preview    Delete   move to the trash (undo in the toast)
 *   Ctrl/Cmd+A       select all matches  Esc      clear the selection
 */
import { useCallback } from 'react';
import type { FocusEvent, KeyboardEvent, MouseEvent } from 'react';
import type { AssetView } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { isNavKey, moveFocus } from '../grid-math.ts';
import { EMPTY_SELECTION, applyClick, isEmpty, isSelected, selectAll, toggleOne } from '../selection.ts';

/**
 * What the grid and the table both draw from: the feed, how many rows it has, the focused index and
 * whether an asset is selected. The list draws again when rows arrive or the selection changes.
 */
export function useListState() {
  const feed = useLibrary().feed;
  const total = useStudio((s) => s.libraryFeed.total) ?? 0;
  useStudio((s) => s.libraryFeed.version); // new rows → draw again
  const selection = useStudio((s) => s.librarySelection);
  const focus = useStudio((s) => s.libraryFocus);
  const selected = (asset: AssetView | undefined) => (asset ? isSelected(selection, asset.id) : false);
  return { feed, total, focus, selected };
}

export interface ListGeometry {
  readonly columns: number;
  /** Rows that fit the viewport (PgUp/PgDn). */
  readonly pageRows: number;
  readonly total: number;
  /** Scrolls the item into view. */
  reveal(index: number): void;
  /** The first item in view (where keyboard focus starts). */
  firstVisible(): number;
}

function indexOf(target: EventTarget | null): number | null {
  const el = (target as HTMLElement | null)?.closest?.('[data-index]');
  if (!el) return null;
  const n = Number(el.getAttribute('data-index'));
  return Number.isInteger(n) ? n : null;
}

export function useListInteractions(geometry: ListGeometry) {
  const controller = useLibrary();
  const { columns, pageRows, total, reveal, firstVisible } = geometry;

  const open = useCallback(
    (index: number) => {
      const asset = controller.feed.at(index);
      if (asset) useStudio.getState().setLibraryPreview({ index, id: asset.id });
    },
    [controller],
  );

  const onClick = useCallback(
    (e: MouseEvent) => {
      const index = indexOf(e.target);
      if (index === null) return;
      const asset = controller.feed.at(index);
      if (!asset) return;
      const s = useStudio.getState();
      const toggle = e.ctrlKey || e.metaKey;
      if ((e.target as HTMLElement).closest('[data-role="check"]')) {
        s.setLibrarySelection(toggleOne(s.librarySelection, index, asset.id));
      } else {
        s.setLibrarySelection(applyClick(s.librarySelection, { index, id: asset.id, range: e.shiftKey, toggle }, (a, b) => controller.feed.idsBetween(a, b)));
      }
      s.setLibraryFocus(index);
      if (e.shiftKey) window.getSelection()?.removeAllRanges();
    },
    [controller],
  );

  const onDoubleClick = useCallback(
    (e: MouseEvent) => {
      const index = indexOf(e.target);
      if (index !== null && !(e.target as HTMLElement).closest('[data-role="check"]')) open(index);
    },
    [open],
  );

  const onKeyDown = useCallback(
    (e: KeyboardEvent) => {
      const s = useStudio.getState();
      const focus = s.libraryFocus;
      const mod = e.ctrlKey || e.metaKey;
      if (isNavKey(e.key)) {
        e.preventDefault();
        const next = moveFocus(focus, e.key, columns, total, pageRows);
        if (next < 0) return;
        s.setLibraryFocus(next);
        reveal(next);
        if (e.shiftKey) {
          const anchor = s.librarySelection.anchor ?? (focus >= 0 ? focus : next);
          const run = controller.feed.idsBetween(anchor, next);
          if (run) s.setLibrarySelection({ mode: 'ids', ids: new Set(run), anchor });
        }
        return;
      }
      if (mod && e.key.toLowerCase() === 'a') {
        e.preventDefault();
        s.setLibrarySelection(selectAll());
        return;
      }
      if (e.key === 'Escape') {
        if (!isEmpty(s.librarySelection, total)) {
          e.preventDefault();
          s.setLibrarySelection(EMPTY_SELECTION);
        }
        return;
      }
      const asset = focus >= 0 ? controller.feed.at(focus) : undefined;
      if (e.key === 'Enter') {
        if (asset) {
          e.preventDefault();
          open(focus);
        }
        return;
      }
      if (e.key === ' ') {
        e.preventDefault();
        if (asset) s.setLibrarySelection(toggleOne(s.librarySelection, focus, asset.id));
        return;
      }
      if (e.key === 'Delete' || (e.key === 'Backspace' && mod)) {
        e.preventDefault();
        if (s.libraryFilters.trashed) return; // in the trash, deleting for good asks first (toolbar)
        const useSelection = !isEmpty(s.librarySelection, total);
        void (async () => {
          const ids = useSelection ? await controller.selectedIds() : asset ? [asset.id] : [];
          if (ids.length > 0) await controller.trash(ids);
        })();
      }
    },
    [columns, controller, open, pageRows, reveal, total],
  );

  /** Tabbing into the list puts keyboard focus on the first item in view. */
  const onFocus = useCallback(
    (e: FocusEvent) => {
      const s = useStudio.getState();
      if (e.target === e.currentTarget && (s.libraryFocus < 0 || s.libraryFocus >= total) && total > 0) s.setLibraryFocus(Math.min(total - 1, firstVisible()));
    },
    [firstVisible, total],
  );

  /** The list element's handlers, to spread on it. */
  const handlers = { onClick, onDoubleClick, onKeyDown, onFocus };
  return { handlers, open };
}
