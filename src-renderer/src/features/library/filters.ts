/**
 * The Library's filter bar as data: what the user picked, and the engine query it becomes. Dates are
 * the `yyyy-mm-dd` strings of <input type="date">, read as whole local days.
 */
import type { Bucket, LibraryQuery, LibrarySort } from '../../contract.ts';

export interface LibraryFilters {
  readonly search: string;
  readonly kind: 'all' | 'image' | 'video';
  /** A job type or upload bucket, or 'all'. */
  readonly bucket: Bucket | 'all';
  /** A model name, or 'all'. */
  readonly model: string;
  readonly favorite: boolean;
  /** 0 = any rating. */
  readonly minRating: number;
  readonly tags: readonly string[];
  readonly tagMode: 'all' | 'any';
  /** A project id, 'none' for assets in no project, or 'all'. */
  readonly project: string;
  readonly from: string;
  readonly to: string;
  /** The trash instead of the library. */
  readonly trashed: boolean;
}

export interface LibrarySortState {
  readonly sort: LibrarySort;
  readonly order: 'asc' | 'desc';
}

export const DEFAULT_FILTERS: LibraryFilters = {
  search: '',
  kind: 'all',
  bucket: 'all',
  model: 'all',
  favorite: false,
  minRating: 0,
  tags: [],
  tagMode: 'all',
  project: 'all',
  from: '',
  to: '',
  trashed: false,
};

/** The order a sort starts in: newest / best first, A→Z for text. */
export function defaultOrder(sort: LibrarySort): 'asc' | 'desc' {
  return sort === 'prompt' || sort === 'model' ? 'asc' : 'desc';
}

export const DEFAULT_SORT: LibrarySortState = { sort: 'date', order: 'desc' };

const DAY_MS = 86_400_000;

/** `yyyy-mm-dd` → local midnight in ms, or null for an empty or impossible date. */
export function localDayStart(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) || d.getDate() !== Number(m[3]) ? null : d.getTime();
}

/** How many filters narrow the view (the search box and the trash switch are counted apart). */
export function activeFilterCount(f: LibraryFilters): number {
  let n = 0;
  if (f.kind !== 'all') n++;
  if (f.bucket !== 'all') n++;
  if (f.model !== 'all') n++;
  if (f.favorite) n++;
  if (f.minRating > 0) n++;
  if (f.tags.length > 0) n++;
  if (f.project !== 'all') n++;
  if (f.from !== '' || f.to !== '') n++;
  return n;
}

export function isFiltered(f: LibraryFilters): boolean {
  return activeFilterCount(f) > 0 || f.search.trim() !== '';
}

/** The engine query for these filters and this sort (no cursor, no limit: the feed adds those). */
export function toQuery(f: LibraryFilters, s: LibrarySortState): NonNullable<LibraryQuery> {
  const q: { -readonly [K in keyof NonNullable<LibraryQuery>]: NonNullable<LibraryQuery>[K] } = { sort: s.sort, order: s.order };
  const search = f.search.trim();
  if (search !== '') q.search = search.slice(0, 500);
  if (f.kind !== 'all') q.kind = f.kind;
  if (f.bucket !== 'all') q.buckets = [f.bucket];
  if (f.model !== 'all') q.models = [f.model];
  if (f.favorite) q.favorite = true;
  if (f.minRating > 0) q.minRating = f.minRating;
  if (f.tags.length > 0) {
    q.tags = [...f.tags];
    q.tagMode = f.tagMode;
  }
  if (f.project === 'none') q.projectId = null;
  else if (f.project !== 'all') q.projectId = f.project;
  const from = localDayStart(f.from);
  const to = localDayStart(f.to);
  if (from !== null) q.from = from;
  if (to !== null) q.to = to + DAY_MS - 1; // the whole of the last day
  if (f.trashed) q.trashed = true;
  return q;
}
