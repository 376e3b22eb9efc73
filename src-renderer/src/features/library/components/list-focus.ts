/**
 * The Library's list on screen (grid or table) as the place keyboard focus returns to when the
 * preview closes: the list, on the item the preview showed last (scrolled into view), so ← → ↑ ↓
 * go on from there. Focus stays on the list element and names the item with
 * aria-activedescendant, as everywhere in the list.
 */
import { useEffect } from 'react';
import type { RefObject } from 'react';
import { useStudio } from '../../../store.ts';

type FocusItem = (index: number) => boolean;

let shown: FocusItem | null = null;

/** Makes the list under `ref` the one focus returns to while it is drawn. */
export function useListFocusReturn(ref: RefObject<HTMLElement | null>, reveal: (index: number) => void): void {
  useEffect(() => {
    const focusItem: FocusItem = (index) => {
      const el = ref.current;
      if (!el?.isConnected) return false;
      const total = useStudio.getState().libraryFeed.total ?? 0;
      if (index >= 0 && index < total) {
        useStudio.getState().setLibraryFocus(index);
        reveal(index);
      }
      el.focus({ preventScroll: true });
      return true;
    };
    shown = focusItem;
    return () => {
      if (shown === focusItem) shown = null;
    };
  }, [ref, reveal]);
}

/** Focuses the list on the item at `index`; false when no list is drawn. */
export function focusListItem(index: number): boolean {
  return shown?.(index) ?? false;
}
