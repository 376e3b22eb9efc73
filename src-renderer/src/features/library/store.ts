/**
 * The Library's slice: what the user picked (filters, sort, layout, selection, focus, the open
 * preview) and what the feed reports (count, loading, error). The rows themselves live in the feed
 * (feed.ts), a bounded cache the grid reads by index; `libraryFeed.version` tells React when to look.
 */
import type { LibraryProgress, LibraryStats, ProjectView, TagView } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';
import type { FeedSnapshot } from './feed.ts';
import { DEFAULT_FILTERS, DEFAULT_SORT } from './filters.ts';
import type { LibraryFilters, LibrarySortState } from './filters.ts';
import { EMPTY_SELECTION } from './selection.ts';
import type { Selection } from './selection.ts';

export type LibraryLayout = 'grid' | 'table';

/** The asset open in the preview: its place in the current list (for ← →) and its id. */
export interface PreviewTarget {
  readonly index: number;
  readonly id: string;
}

/** The last delete, offered back by the undo toast. */
export interface UndoOffer {
  readonly key: number;
  readonly ids: readonly string[];
  readonly message: string;
}

export interface LibrarySlice {
  readonly libraryFilters: LibraryFilters;
  readonly librarySort: LibrarySortState;
  readonly libraryLayout: LibraryLayout;
  readonly librarySelection: Selection;
  /** Index of the focused cell, -1 for none. */
  readonly libraryFocus: number;
  readonly libraryPreview: PreviewTarget | null;
  readonly libraryFeed: FeedSnapshot;
  /** Where the list was scrolled, so leaving the Library and coming back keeps the place. */
  readonly libraryScrollTop: number;
  readonly libraryTags: readonly TagView[];
  readonly libraryProjects: readonly ProjectView[];
  readonly libraryStats: LibraryStats | null;
  /** Model names seen in the library so far (for the model filter). */
  readonly libraryModels: readonly string[];
  readonly libraryUndo: UndoOffer | null;
  /** The long library task under way (import, export, …), as the engine reports it. */
  readonly libraryProgress: LibraryProgress | null;
  setLibraryFilters(patch: Partial<LibraryFilters>): void;
  clearLibraryFilters(): void;
  setLibrarySort(sort: LibrarySortState): void;
  setLibraryLayout(layout: LibraryLayout): void;
  setLibrarySelection(selection: Selection): void;
  setLibraryFocus(index: number): void;
  setLibraryPreview(target: PreviewTarget | null): void;
  setLibraryFeed(snapshot: FeedSnapshot): void;
  setLibraryScrollTop(top: number): void;
  setLibraryTags(tags: readonly TagView[]): void;
  setLibraryProjects(projects: readonly ProjectView[]): void;
  setLibraryStats(stats: LibraryStats): void;
  addLibraryModels(models: readonly string[]): void;
  offerUndo(offer: Omit<UndoOffer, 'key'> | null): void;
  setLibraryProgress(progress: LibraryProgress | null): void;
}

let undoKey = 1;

/** A new question starts at the top with nothing selected. */
const freshView = { librarySelection: EMPTY_SELECTION, libraryFocus: -1, libraryScrollTop: 0, libraryPreview: null } as const;

export const createLibrarySlice: SliceCreator<LibrarySlice> = (set) => ({
  libraryFilters: DEFAULT_FILTERS,
  librarySort: DEFAULT_SORT,
  libraryLayout: 'grid',
  librarySelection: EMPTY_SELECTION,
  libraryFocus: -1,
  libraryPreview: null,
  libraryFeed: { version: 0, total: null, status: 'idle', error: null },
  libraryScrollTop: 0,
  libraryTags: [],
  libraryProjects: [],
  libraryStats: null,
  libraryModels: [],
  libraryUndo: null,
  libraryProgress: null,
  setLibraryFilters: (patch) => set((s) => ({ libraryFilters: { ...s.libraryFilters, ...patch }, ...freshView })),
  clearLibraryFilters: () => set((s) => ({ libraryFilters: { ...DEFAULT_FILTERS, trashed: s.libraryFilters.trashed }, ...freshView })),
  setLibrarySort: (librarySort) => set({ librarySort, ...freshView }),
  setLibraryLayout: (libraryLayout) => set({ libraryLayout }),
  setLibrarySelection: (librarySelection) => set({ librarySelection }),
  setLibraryFocus: (libraryFocus) => set({ libraryFocus }),
  setLibraryPreview: (libraryPreview) => set({ libraryPreview }),
  setLibraryFeed: (libraryFeed) => set({ libraryFeed }),
  setLibraryScrollTop: (libraryScrollTop) => set({ libraryScrollTop }),
  setLibraryTags: (libraryTags) => set({ libraryTags }),
  setLibraryProjects: (libraryProjects) => set({ libraryProjects }),
  setLibraryStats: (libraryStats) => set({ libraryStats }),
  addLibraryModels: (models) =>
    set((s) => {
      const fresh = models.filter((m) => !s.libraryModels.includes(m));
      return fresh.length === 0 ? {} : { libraryModels: [...s.libraryModels, ...new Set(fresh)].sort((a, b) => a.localeCompare(b)) };
    }),
  offerUndo: (offer) => set({ libraryUndo: offer ? { ...offer, key: undoKey++ } : null }),
  setLibraryProgress: (libraryProgress) => set({ libraryProgress }),
});
