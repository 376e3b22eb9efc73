/**
 * The rows behind the Library's grid and table: a sparse, bounded cache of the current query's
 * matches, filled by keyset pages as the user scrolls.
 *
 * Rows are addressed by index (0 = first match), in pages of `pageSize`. The engine's cursors only
 * go forward, so the feed remembers the cursor that starts each page it has reached ("anchors") and
 * reaches a page from the nearest anchor before it when that anchor is at most a couple of pages
 * back (sequential scrolling: one keyset request, exact however the library changes meanwhile).
 * A page further than that from every known anchor (the scroll bar dragged to the middle on a first
 * visit) is fetched directly with the query's `offset`, and the cursor that page returns becomes the
 * anchor of the page after it, so scrolling on from the landing place is keyset again.
 *
 * An offset is positional: assets added (or removed) before it since the count shift the landed page
 * by that many rows. The feed only uses an offset to land; the pages after it continue by cursor, so
 * they neither repeat nor skip a row relative to it, and the change event that such an addition
 * sends resets the cache (anchors included), which re-reads the rows in view at their new places.
 *
 * Pages far from the viewport are evicted (their anchors stay), so memory stays flat however far the
 * user scrolls; scrolling back is one request, from a remembered anchor or by offset.
 *
 * A change in the library resets the cache but keeps showing the previous rows until the new ones
 * arrive, so a job landing does not flash the grid. Edits that cannot move a row (a new thumbnail,
 * a rating while no rating filter or sort is on) are patched in place.
 */
import type { AssetDetail, AssetPage, AssetView, LibraryChange, LibraryQuery } from '../../contract.ts';

export interface FeedApi {
  query(params: LibraryQuery): Promise<AssetPage>;
  get(params: { id: string }): Promise<AssetDetail | null>;
}

export interface FeedSnapshot {
  /** Bumped on every change of what `at()` returns. */
  readonly version: number;
  /** Every match of the query; null before the first answer. */
  readonly total: number | null;
  readonly status: 'idle' | 'loading' | 'ready' | 'error';
  readonly error: string | null;
}

export interface FeedOptions {
  readonly pageSize?: number;
  /** Largest page asked for (the contract's limit is 1000). */
  readonly maxFetch?: number;
  /** Pages kept in memory (beyond those the viewport needs). */
  readonly keepPages?: number;
  /** Pause before handling a burst of change events as one. */
  readonly changeDelayMs?: number;
  /** Sees every fetched row (the filter bar learns model names from them). */
  readonly onRows?: (rows: readonly AssetView[]) => void;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

type Query = NonNullable<LibraryQuery>;

interface Fetch {
  readonly fromPage: number;
  readonly limit: number;
  /** Fetched with `offset` (fromPage has no anchor) rather than from the anchor's cursor. */
  readonly byOffset: boolean;
}

/** A page more than this many pages past its nearest known anchor is fetched by offset. */
const OFFSET_AFTER_PAGES = 2;

interface Waiter {
  readonly first: number;
  readonly last: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Change reasons that can add, remove or reorder rows whatever the query. */
const STRUCTURAL: ReadonlySet<LibraryChange['reason']> = new Set(['added', 'trashed', 'restored', 'deleted', 'moved', 'repaired']);
const PATCH_LIMIT = 50;

function messageOf(error: unknown): string {
  if (error && typeof error === 'object' && 'wire' in error) {
    const wire = (error as { wire?: { message?: unknown } }).wire;
    if (typeof wire?.message === 'string') return wire.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export class LibraryFeed {
  private readonly api: FeedApi;
  private readonly onChange: (snapshot: FeedSnapshot) => void;
  readonly pageSize: number;
  private readonly maxFetch: number;
  private readonly keepPages: number;
  private readonly changeDelayMs: number;
  private readonly onRows: (rows: readonly AssetView[]) => void;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  private query: Query | null = null;
  private queryKey = '';
  private generation = 0;
  private pages = new Map<number, readonly AssetView[]>();
  /** The previous generation's pages, shown until the new ones cover the viewport. */
  private stale: Map<number, readonly AssetView[]> | null = null;
  private anchors = new Map<number, string | undefined>([[0, undefined]]);
  private endPage: number | null = null;
  private total: number | null = null;
  private needTotal = true;
  private wantFirst = 0;
  private wantLast = -1;
  private inflight = false;
  private waiters: Waiter[] = [];
  private status: FeedSnapshot['status'] = 'idle';
  private error: string | null = null;
  private version = 0;
  private pendingChanges: LibraryChange[] = [];
  private changeTimer: unknown = null;
  private closed = false;

  constructor(api: FeedApi, onChange: (snapshot: FeedSnapshot) => void, options: FeedOptions = {}) {
    this.api = api;
    this.onChange = onChange;
    this.pageSize = options.pageSize ?? 100;
    this.maxFetch = Math.max(this.pageSize, Math.floor((options.maxFetch ?? 1000) / this.pageSize) * this.pageSize);
    this.keepPages = options.keepPages ?? 40;
    this.changeDelayMs = options.changeDelayMs ?? 120;
    this.onRows = options.onRows ?? (() => {});
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get snapshot(): FeedSnapshot {
    return { version: this.version, total: this.total, status: this.status, error: this.error };
  }

  /** Rows held in memory now (bounded by keepPages, however far the user scrolls). */
  get cachedRows(): number {
    let n = 0;
    for (const rows of this.pages.values()) n += rows.length;
    return n;
  }

  /** The query whose matches to show; a different one starts again from the first row. */
  setQuery(query: Query): void {
    const key = JSON.stringify(query);
    if (key === this.queryKey && this.query) return;
    this.query = query;
    this.queryKey = key;
    this.reset({ keepRows: false });
  }

  /** The rows the viewport needs now (inclusive); pages around them are fetched and kept. */
  want(first: number, last: number): void {
    this.wantFirst = Math.max(0, first);
    this.wantLast = last;
    this.pump();
  }

  /** The row at `index`, or undefined while it is not loaded. */
  at(index: number): AssetView | undefined {
    const page = Math.floor(index / this.pageSize);
    const offset = index - page * this.pageSize;
    return this.pages.get(page)?.[offset] ?? this.stale?.get(page)?.[offset];
  }

  /** The index of a loaded row, or -1. */
  indexOf(id: string): number {
    for (const [page, rows] of this.pages) {
      const i = rows.findIndex((r) => r.id === id);
      if (i !== -1) return page * this.pageSize + i;
    }
    return -1;
  }

  /** Ids of rows a..b (either order, inclusive) from the current answer, or null if any is not loaded. */
  idsBetween(a: number, b: number): string[] | null {
    const lo = Math.max(0, Math.min(a, b));
    const hi = Math.min(Math.max(a, b), (this.total ?? 0) - 1);
    const ids: string[] = [];
    for (let i = lo; i <= hi; i++) {
      const page = Math.floor(i / this.pageSize);
      const row = this.pages.get(page)?.[i - page * this.pageSize];
      if (!row) return null;
      ids.push(row.id);
    }
    return ids;
  }

  /** Resolves once rows first..last are loaded (or the list ends before them). */
  loadRange(first: number, last: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ first: Math.max(0, first), last, resolve, reject });
      this.pump();
    });
  }

  /** Every id the query matches except `except`, walking the whole list (for "select all" actions). */
  async allIds(except: ReadonlySet<string> = new Set(), cap = 100_000): Promise<string[]> {
    if (!this.query) return [];
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.api.query({ ...this.query, limit: this.maxFetch, cursor });
      for (const item of page.items) if (!except.has(item.id)) ids.push(item.id);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && ids.length < cap);
    return ids.slice(0, cap);
  }

  /** A `library.changed` event: applied after a short pause, so a burst of them costs one refresh. */
  changed(change: LibraryChange): void {
    if (this.closed) return;
    this.pendingChanges.push(change);
    if (this.changeTimer === null) {
      this.changeTimer = this.setTimer(() => {
        this.changeTimer = null;
        const batch = this.pendingChanges;
        this.pendingChanges = [];
        void this.applyChanges(batch);
      }, this.changeDelayMs);
    }
  }

  /** Reads everything again (after a reconnect, or the Retry button), keeping the rows on screen meanwhile. */
  reload(): void {
    this.reset({ keepRows: true });
  }

  close(): void {
    this.closed = true;
    if (this.changeTimer !== null) this.clearTimer(this.changeTimer);
    this.changeTimer = null;
    this.generation++;
  }

  // ---- internals ----

  private emit(): void {
    this.version++;
    this.onChange(this.snapshot);
  }

  private reset({ keepRows }: { keepRows: boolean }): void {
    this.generation++;
    this.stale = keepRows ? new Map([...(this.stale ?? []), ...this.pages]) : null;
    this.pages = new Map();
    this.anchors = new Map([[0, undefined]]);
    this.endPage = null;
    this.needTotal = true;
    if (!keepRows) this.total = null;
    this.inflight = false;
    this.status = 'loading';
    this.error = null;
    this.emit();
    this.pump();
  }

  private pagesOf(first: number, last: number): [number, number] {
    return [Math.floor(first / this.pageSize), Math.floor(last / this.pageSize)];
  }

  private exists(page: number): boolean {
    if (this.endPage !== null && page > this.endPage) return false;
    if (!this.needTotal && this.total !== null && page * this.pageSize >= this.total) return false;
    return true;
  }

  /** Pages some reader needs, in the order to fetch them. */
  private neededPages(): number[] {
    const out = new Set<number>();
    const add = (first: number, last: number) => {
      if (last < first) return;
      const [a, b] = this.pagesOf(first, last);
      for (let p = a; p <= b; p++) if (this.exists(p) && !this.pages.has(p)) out.add(p);
    };
    add(this.wantFirst, this.wantLast);
    for (const w of this.waiters) add(w.first, w.last);
    if (this.needTotal && out.size === 0) out.add(0); // the count comes with a page
    return [...out].sort((x, y) => x - y);
  }

  private nextFetch(): Fetch | null {
    const needed = this.neededPages();
    const target = needed[0];
    if (target === undefined) return null;
    let from = 0;
    for (const page of this.anchors.keys()) if (page <= target && page > from) from = page;
    // Far from every anchor: land on the target itself by offset instead of walking toward it.
    const byOffset = target - from > OFFSET_AFTER_PAGES;
    if (byOffset) from = target;
    const maxPages = this.maxFetch / this.pageSize;
    if (target - from + 1 > maxPages) return { fromPage: from, limit: this.maxFetch, byOffset: false }; // walk toward it
    let last = target;
    const neededSet = new Set(needed);
    while (neededSet.has(last + 1) && last + 1 - from + 1 <= maxPages) last++;
    return { fromPage: from, limit: (last - from + 1) * this.pageSize, byOffset };
  }

  private pump(): void {
    if (this.closed || this.inflight || !this.query) return;
    const job = this.nextFetch();
    if (!job) {
      this.settleWaiters();
      if (this.status === 'loading') {
        this.status = 'ready';
        this.emit();
      }
      return;
    }
    this.inflight = true;
    const generation = this.generation;
    const askTotal = this.needTotal;
    const start = job.byOffset ? { offset: job.fromPage * this.pageSize } : { cursor: this.anchors.get(job.fromPage) };
    this.api
      .query({ ...this.query, limit: job.limit, ...start, ...(askTotal ? { withTotal: true } : {}) })
      .then(
        (page) => {
          if (generation !== this.generation) return;
          this.inflight = false;
          this.store(job, page);
          this.pump();
        },
        (error: unknown) => {
          if (generation !== this.generation) return;
          this.inflight = false;
          this.status = 'error';
          this.error = messageOf(error);
          const waiters = this.waiters;
          this.waiters = [];
          for (const w of waiters) w.reject(error);
          this.emit();
        },
      );
  }

  private store(job: Fetch, page: AssetPage): void {
    if (page.total !== null) {
      this.total = page.total;
      this.needTotal = false;
    }
    this.onRows(page.items);
    const keep = this.keepWindow();
    const count = Math.ceil(page.items.length / this.pageSize);
    for (let i = 0; i < count; i++) {
      const p = job.fromPage + i;
      if (p >= keep[0] && p <= keep[1]) this.pages.set(p, page.items.slice(i * this.pageSize, (i + 1) * this.pageSize));
    }
    if (page.nextCursor !== null && page.items.length === job.limit) {
      this.anchors.set(job.fromPage + job.limit / this.pageSize, page.nextCursor);
    } else if (job.byOffset && page.items.length === 0) {
      // Past the end by offset (rows removed since the count): the end is before here, but the
      // count is not known exactly any more; ask for it again with the next page.
      this.endPage = job.fromPage - 1;
      if (page.total === null) this.needTotal = true;
    } else {
      this.endPage = job.fromPage + count - 1;
      // The list ends here: the count is exact even if it was never asked for.
      this.total = job.fromPage * this.pageSize + page.items.length;
      this.needTotal = false;
    }
    this.evict();
    if (this.stale && this.neededPages().length === 0) this.stale = null;
    this.status = 'ready';
    this.error = null;
    this.settleWaiters();
    this.emit();
  }

  /** Pages worth keeping from a fetch: those near the viewport and those a waiter needs. */
  private keepWindow(): [number, number] {
    let [a, b] = this.wantLast >= this.wantFirst ? this.pagesOf(this.wantFirst, this.wantLast) : [0, 0];
    for (const w of this.waiters) {
      const [wa, wb] = this.pagesOf(w.first, w.last);
      a = Math.min(a, wa);
      b = Math.max(b, wb);
    }
    return [a - 2, b + 2];
  }

  private evict(): void {
    if (this.pages.size <= this.keepPages) return;
    const [a, b] = this.keepWindow();
    const centre = (a + b) / 2;
    const candidates = [...this.pages.keys()].filter((p) => p < a || p > b).sort((x, y) => Math.abs(y - centre) - Math.abs(x - centre));
    for (const p of candidates) {
      if (this.pages.size <= this.keepPages) break;
      this.pages.delete(p);
    }
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const pending: Waiter[] = [];
    for (const w of this.waiters) {
      const [a, b] = this.pagesOf(w.first, w.last);
      let ready = true;
      for (let p = a; p <= b && ready; p++) if (this.exists(p) && !this.pages.has(p)) ready = false;
      if (ready) w.resolve();
      else pending.push(w);
    }
    this.waiters = pending;
  }

  private async applyChanges(batch: readonly LibraryChange[]): Promise<void> {
    if (this.closed || !this.query) return;
    const q = this.query;
    const affectsMembership = (c: LibraryChange): boolean => {
      if (STRUCTURAL.has(c.reason) || c.ids === null) return true;
      if (c.reason === 'updated') return q.favorite !== undefined || q.minRating !== undefined || q.sort === 'rating';
      if (c.reason === 'tags') return q.tags !== undefined;
      if (c.reason === 'projects') return q.projectId !== undefined;
      return false;
    };
    if (batch.some(affectsMembership)) {
      this.reset({ keepRows: true });
      return;
    }
    const ids = new Set(batch.flatMap((c) => c.ids ?? []));
    const loaded = [...ids].filter((id) => this.indexOf(id) !== -1);
    if (loaded.length === 0) return;
    if (loaded.length > PATCH_LIMIT) {
      this.reset({ keepRows: true });
      return;
    }
    const generation = this.generation;
    const fresh = await Promise.all(loaded.map((id) => this.api.get({ id }).catch(() => null)));
    if (generation !== this.generation) return;
    if (fresh.some((asset) => asset === null)) {
      // One is gone since: the rows after it move up, which only a re-read gets right.
      this.reset({ keepRows: true });
      return;
    }
    let patched = false;
    fresh.forEach((asset, i) => {
      const index = this.indexOf(loaded[i]!);
      if (index === -1 || asset === null) return;
      const page = Math.floor(index / this.pageSize);
      const rows = [...this.pages.get(page)!];
      rows[index - page * this.pageSize] = toView(asset);
      this.pages.set(page, rows);
      patched = true;
    });
    if (patched) this.emit();
  }
}

/** An AssetDetail trimmed to the AssetView the grid keeps (the recipe and timings can be large). */
export function toView(detail: AssetDetail): AssetView {
  const { recipe: _recipe, timings: _timings, duplicates: _duplicates, thumbError: _thumbError, originalInCloud: _inCloud, ...view } = detail;
  return view;
}
