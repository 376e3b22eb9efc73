/**
 * Multi-select as file managers do it: click selects one, Ctrl/Cmd-click toggles one, Shift-click
 * selects the run from the anchor (Ctrl/Cmd+Shift adds the run), "select all" means every match of
 * the current filters — including the rows not loaded yet — minus the ones toggled off since.
 */

export type Selection =
  | { readonly mode: 'ids'; readonly ids: ReadonlySet<string>; readonly anchor: number | null }
  | { readonly mode: 'all'; readonly except: ReadonlySet<string>; readonly anchor: number | null };

export const EMPTY_SELECTION: Selection = { mode: 'ids', ids: new Set(), anchor: null };

export interface ClickTarget {
  readonly index: number;
  readonly id: string;
  /** Shift held. */
  readonly range: boolean;
  /** Ctrl (or Cmd on macOS) held. */
  readonly toggle: boolean;
}

export function isSelected(sel: Selection, id: string): boolean {
  return sel.mode === 'ids' ? sel.ids.has(id) : !sel.except.has(id);
}

export function selectedCount(sel: Selection, total: number): number {
  return sel.mode === 'ids' ? sel.ids.size : Math.max(0, total - sel.except.size);
}

export function isEmpty(sel: Selection, total: number): boolean {
  return selectedCount(sel, total) === 0;
}

export function selectOnly(index: number, id: string): Selection {
  return { mode: 'ids', ids: new Set([id]), anchor: index };
}

export function toggleOne(sel: Selection, index: number, id: string): Selection {
  if (sel.mode === 'all') {
    const except = new Set(sel.except);
    if (except.has(id)) except.delete(id);
    else except.add(id);
    return { mode: 'all', except, anchor: index };
  }
  const ids = new Set(sel.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { mode: 'ids', ids, anchor: index };
}

export function selectAll(): Selection {
  return { mode: 'all', except: new Set(), anchor: null };
}

/**
 * The selection after a click. `idsBetween(a, b)` returns the ids of rows a..b (inclusive, either
 * order) or null when some are not loaded; a range that cannot be resolved selects the target only.
 */
export function applyClick(sel: Selection, click: ClickTarget, idsBetween: (a: number, b: number) => readonly string[] | null): Selection {
  if (click.range && sel.anchor !== null) {
    const run = idsBetween(sel.anchor, click.index);
    if (run) {
      if (click.toggle) {
        if (sel.mode === 'all') {
          const except = new Set(sel.except);
          for (const id of run) except.delete(id);
          return { mode: 'all', except, anchor: sel.anchor };
        }
        return { mode: 'ids', ids: new Set([...sel.ids, ...run]), anchor: sel.anchor };
      }
      // The anchor stays where the run started, so the next Shift-click re-draws the run from it.
      return { mode: 'ids', ids: new Set(run), anchor: sel.anchor };
    }
  }
  if (click.toggle) return toggleOne(sel, click.index, click.id);
  return selectOnly(click.index, click.id);
}

/** Drops ids that left the view (trashed, deleted). */
export function without(sel: Selection, gone: readonly string[]): Selection {
  if (gone.length === 0) return sel;
  if (sel.mode === 'all') return sel; // "all" is over the current matches, which no longer include them
  const ids = new Set(sel.ids);
  for (const id of gone) ids.delete(id);
  return ids.size === sel.ids.size ? sel : { mode: 'ids', ids, anchor: sel.anchor };
}
