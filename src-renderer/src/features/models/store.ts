import type { Preparation } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';
import { isNewerPreparation } from './logic.ts';

/** How "Add model…" was opened: empty, or with a path (chosen, dropped) and a line to say first. */
export interface AddModelDialogState {
  readonly path: string;
  /** Said at the top of the dialog (a drop in a browser: "drop works in the app; paste the path here"). */
  readonly note: string | null;
  /** Bumped on every open, so the dialog starts fresh even when opened again with the same path. */
  readonly opened: number;
}

export interface ModelsSlice {
  /** "Add model" runs by id, as the engine last reported them (list answers and events). */
  readonly preparations: Readonly<Record<string, Preparation>>;
  /** Failed or cancelled cards the person closed, or that "Try again" replaced. */
  readonly dismissedPreparations: readonly string[];
  /** The Add model dialog, when open. */
  readonly addModel: AddModelDialogState | null;
  upsertPreparations(preparations: readonly Preparation[]): void;
  dismissPreparation(id: string): void;
  /** Opens Add model… (from the Models view, a drop, or the Workspace's "no model" note). */
  openAddModel(options?: { readonly path?: string; readonly note?: string | null }): void;
  closeAddModel(): void;
}

/** Closed cards stay closed across a reload of this window (the engine keeps its recent runs). */
const DISMISSED_KEY = 'ourvidz.models.dismissedPreparations';
const DISMISSED_KEEP = 100;

function sessionStore(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return (globalThis as { sessionStorage?: Storage }).sessionStorage ?? null;
  } catch {
    return null; // storage refused (a sandboxed frame): closed cards are remembered until a reload only
  }
}

function loadDismissed(): string[] {
  try {
    const parsed: unknown = JSON.parse(sessionStore()?.getItem(DISMISSED_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string').slice(-DISMISSED_KEEP) : [];
  } catch {
    return [];
  }
}

function saveDismissed(ids: readonly string[]): void {
  try {
    sessionStore()?.setItem(DISMISSED_KEY, JSON.stringify(ids));
  } catch {
    // full or refused: the cards come back after a reload, nothing worse
  }
}

export const createModelsSlice: SliceCreator<ModelsSlice> = (set) => ({
  preparations: {},
  dismissedPreparations: loadDismissed(),
  addModel: null,

  upsertPreparations: (incoming) =>
    set((s) => {
      let changed = false;
      const next: Record<string, Preparation> = { ...s.preparations };
      for (const p of incoming) {
        if (!isNewerPreparation(next[p.id], p)) continue;
        next[p.id] = p;
        changed = true;
      }
      return changed ? { preparations: next } : {};
    }),

  dismissPreparation: (id) =>
    set((s) => {
      if (s.dismissedPreparations.includes(id)) return {};
      const dismissedPreparations = [...s.dismissedPreparations, id].slice(-DISMISSED_KEEP);
      saveDismissed(dismissedPreparations);
      return { dismissedPreparations };
    }),

  openAddModel: (options) =>
    set((s) => ({ addModel: { path: options?.path ?? '', note: options?.note ?? null, opened: (s.addModel?.opened ?? 0) + 1 } })),

  closeAddModel: () => set({ addModel: null }),
});
