/**
 * Library queries: filters, four sorts, keyset pages behind an opaque cursor, full-text search.
 *
 * Every sort is a tuple of key expressions ending in `seq` (unique, stable), so a page boundary is
 * one row-value comparison — `(created_at, seq) < (?, ?)` — which SQLite turns into a range on the
 * sort's index: page 1,000 costs what page 1 costs, and rows added or removed meanwhile never
 * duplicate or skip a row. User search text is only ever passed as quoted FTS5 phrases.
 *
 * `offset` lands far into the list in one request (a scroll bar dragged to the middle on a first
 * visit): the same ORDER BY with SQL OFFSET, which steps over the skipped rows in the sort's index
 * (narrow key rows only). Its page carries an ordinary `nextCursor`, so reading on from there is
 * keyset again. An offset is positional: rows added or removed before it meanwhile shift the page
 * by that many rows, which is why callers use it only to land and continue by cursor.
 */
import type { SQLInputValue } from 'node:sqlite';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import { LIBRARY_SORTS } from '../../../src-preload/contract/library.ts';
import type { AssetPage, AssetView, LibraryQuery, LibrarySort } from '../../../src-preload/contract/library.ts';
import { ASSET_COLUMNS, bucketsOfQuality, getAssetRow, viewsOf } from './store.ts';
import type { AssetRow } from './store.ts';

export const DEFAULT_PAGE = 100;

/** Key expressions per sort; each list ends in seq, the tiebreak. Kept identical to the indexes. */
const SORT_KEYS: Readonly<Record<LibrarySort, readonly string[]>> = {
  date: ['created_at', 'seq'],
  prompt: ["ifnull(prompt, '') COLLATE NOCASE", 'seq'],
  model: ["ifnull(model, '')", 'created_at', 'seq'],
  rating: ['rating', 'created_at', 'seq'],
};

interface CursorPayload {
  s: LibrarySort;
  o: 'asc' | 'desc';
  k: (string | number)[];
}

export function encodeCursor(payload: CursorPayload): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, sort: LibrarySort, order: 'asc' | 'desc'): CursorPayload {
  const invalid = (why: string): StudioError =>
    new StudioError('invalid_params', `the page cursor is not valid (${why}); start again from the first page`, { field: 'cursor' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('it is not one this library made');
  }
  const p = parsed as Partial<CursorPayload>;
  if (
    typeof p !== 'object' ||
    p === null ||
    !(LIBRARY_SORTS as readonly string[]).includes(p.s as string) ||
    (p.o !== 'asc' && p.o !== 'desc') ||
    !Array.isArray(p.k) ||
    p.k.length !== SORT_KEYS[p.s as LibrarySort].length ||
    !p.k.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw invalid('it is not one this library made');
  }
  if (p.s !== sort || p.o !== order) throw invalid(`it belongs to the ${p.s}/${p.o} order, not ${sort}/${order}`);
  return p as CursorPayload;
}

/**
 * User text → an FTS5 query that can only mean "these words, as prefixes, in any order": each word
 * becomes a quoted phrase (inner quotes doubled) with a trailing `*`, so operators, column filters,
 * parentheses and NEAR in the input are plain text. A one-letter word is matched whole ("a" is
 * not "every word starting with a", which would also be slow). Null when nothing searchable is left.
 */
export function ftsQuery(text: string): string | null {
  const words = text
    .normalize('NFKC')
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .slice(0, 32);
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replaceAll('"', '""')}"${[...w.replace(/[^\p{L}\p{N}]/gu, '')].length > 1 ? '*' : ''}`).join(' ');
}

interface Where {
  sql: string[];
  args: SQLInputValue[];
  /** A filter that can match nothing (an unknown tag in 'all' mode). */
  empty: boolean;
  /** The FTS5 query, kept apart so a dense search can be walked in sort order. */
  match: string | null;
}

function buildWhere(db: Database, q: NonNullable<LibraryQuery>): Where {
  const w: Where = { sql: [], args: [], empty: false, match: null };
  // Literal conditions, so SQLite can prove the partial indexes apply.
  w.sql.push(q.trashed ? 'trashed_at IS NOT NULL' : 'trashed_at IS NULL');
  if (q.kind) {
    w.sql.push('kind = ?');
    w.args.push(q.kind);
  }
  let buckets: string[] | null = q.buckets ? [...q.buckets] : null;
  if (q.quality) {
    const ofQuality = bucketsOfQuality(q.quality) as string[];
    buckets = buckets ? buckets.filter((b) => ofQuality.includes(b)) : ofQuality;
  }
  if (buckets) {
    if (buckets.length === 0) w.empty = true;
    else {
      w.sql.push(`bucket IN (${buckets.map(() => '?').join(',')})`);
      w.args.push(...buckets);
    }
  }
  if (q.models && q.models.length > 0) {
    w.sql.push(`ifnull(model, '') IN (${q.models.map(() => '?').join(',')})`);
    w.args.push(...q.models);
  }
  if (q.from !== undefined) {
    w.sql.push('created_at >= ?');
    w.args.push(q.from);
  }
  if (q.to !== undefined) {
    w.sql.push('created_at <= ?');
    w.args.push(q.to);
  }
  if (q.favorite === true) w.sql.push('favorite = 1');
  else if (q.favorite === false) w.sql.push('favorite = 0');
  if (q.minRating !== undefined && q.minRating > 0) {
    w.sql.push('rating >= ?');
    w.args.push(q.minRating);
  }
  if (q.projectId === null) w.sql.push('project_id IS NULL');
  else if (q.projectId !== undefined) {
    w.sql.push('project_id = ?');
    w.args.push(q.projectId);
  }
  if (q.tags && q.tags.length > 0) {
    const names = [...new Set(q.tags.map((t) => t.trim()))];
    const ids = db
      .all<{ id: string }>(`SELECT id FROM tags WHERE name IN (${names.map(() => '?').join(',')})`, ...names)
      .map((r) => r.id);
    const all = (q.tagMode ?? 'all') === 'all';
    if (ids.length === 0 || (all && ids.length < names.length)) w.empty = true;
    else if (all && ids.length > 1) {
      w.sql.push(
        `id IN (SELECT asset_id FROM asset_tags WHERE tag_id IN (${ids.map(() => '?').join(',')}) GROUP BY asset_id HAVING count(*) = ?)`,
      );
      w.args.push(...ids, ids.length);
    } else {
      w.sql.push(`id IN (SELECT asset_id FROM asset_tags WHERE tag_id IN (${ids.map(() => '?').join(',')}))`);
      w.args.push(...ids);
    }
  }
  if (q.search !== undefined && q.search.trim() !== '') {
    w.match = ftsQuery(q.search);
    if (w.match === null) w.empty = true;
  }
  return w;
}

const FTS_FILTER = 'seq IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?)';

interface Plan {
  readonly where: Where;
  readonly sort: LibrarySort;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly keys: readonly string[];
  readonly cursor: (string | number)[] | null;
  /** Rows to skip before the page (0 unless `offset` was given; never together with a cursor). */
  readonly offset: number;
}

function plan(db: Database, query: LibraryQuery): Plan {
  const q = query ?? {};
  const sort = q.sort ?? 'date';
  const order = q.order ?? (sort === 'prompt' || sort === 'model' ? 'asc' : 'desc');
  if (q.offset !== undefined && q.cursor !== undefined) {
    throw new StudioError('invalid_params', 'give either cursor (to continue from a page) or offset (to land at a row), not both', {
      field: 'offset',
    });
  }
  if (q.offset !== undefined && (!Number.isSafeInteger(q.offset) || q.offset < 0)) {
    throw new StudioError('invalid_params', 'offset is a whole number of rows, 0 or more', { field: 'offset' });
  }
  const cursor = q.cursor !== undefined ? decodeCursor(q.cursor, sort, order).k : null;
  return { where: buildWhere(db, q), sort, order, limit: q.limit ?? DEFAULT_PAGE, keys: SORT_KEYS[sort], cursor, offset: q.offset ?? 0 };
}

/**
 * The ids-and-keys half of a page: `seq` plus the sort keys of the next `take` rows after `after`
 * (a cursor's keys), in order. Only these narrow rows go through the sorter; the full rows of the
 * one page are read afterwards.
 */
function keysSql(
  p: Plan,
  after: (string | number)[] | null,
  take: number,
  withMatch: boolean,
  skip = 0,
): { sql: string; args: SQLInputValue[] } {
  const conditions = [...p.where.sql];
  const args = [...p.where.args];
  if (withMatch && p.where.match !== null) {
    conditions.push(FTS_FILTER);
    args.push(p.where.match);
  }
  if (after !== null) {
    conditions.push(`(${p.keys.join(', ')}) ${p.order === 'desc' ? '<' : '>'} (${p.keys.map(() => '?').join(', ')})`);
    args.push(...after);
  }
  const dir = p.order === 'desc' ? 'DESC' : 'ASC';
  const columns = p.keys.map((k, i) => `${k.replace(/ COLLATE NOCASE$/, '')} AS k${i}`).join(', ');
  const sql = `SELECT seq, ${columns} FROM assets WHERE ${conditions.join(' AND ')}
    ORDER BY ${p.keys.map((k) => `${k} ${dir}`).join(', ')} LIMIT ?${skip > 0 ? ' OFFSET ?' : ''}`;
  return { sql, args: skip > 0 ? [...args, take, skip] : [...args, take] };
}

/** The SQL a query's page runs (exported for EXPLAIN QUERY PLAN checks in tests and the benchmark). */
export function pageSql(db: Database, query: LibraryQuery): { sql: string; args: SQLInputValue[] } {
  const p = plan(db, query);
  return keysSql(p, p.cursor, p.limit + 1, true, p.offset);
}

type KeyRow = { seq: number } & Record<`k${number}`, string | number>;

/**
 * Above this many matches a search is "dense" (a word in most prompts): rather than collect every
 * match and sort them, the sort's index is walked in batches and each batch is intersected with
 * the matches in its seq range, stopping as soon as the page is full.
 */
export const DENSE_MATCHES = 10_000;
const WALK_BATCH = 2_000;
const WALK_MAX_BATCHES = 25;

function isDense(db: Database, match: string): boolean {
  return (
    (db.get<{ n: number }>(`SELECT count(*) AS n FROM (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ? LIMIT ${DENSE_MATCHES})`, match)?.n ?? 0) >=
    DENSE_MATCHES
  );
}

function walkDense(db: Database, p: Plan): KeyRow[] | null {
  const out: KeyRow[] = [];
  let after = p.cursor;
  for (let batch = 0; batch < WALK_MAX_BATCHES; batch++) {
    const { sql, args } = keysSql(p, after, WALK_BATCH, false);
    const rows = db.all<KeyRow>(sql, ...args);
    if (rows.length === 0) return out;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const r of rows) {
      if (r.seq < lo) lo = r.seq;
      if (r.seq > hi) hi = r.seq;
    }
    const hits = new Set(
      db
        .all<{ rowid: number }>('SELECT rowid FROM assets_fts WHERE assets_fts MATCH ? AND rowid BETWEEN ? AND ?', p.where.match, lo, hi)
        .map((r) => r.rowid),
    );
    for (const r of rows) {
      if (!hits.has(r.seq)) continue;
      out.push(r);
      if (out.length > p.limit) return out;
    }
    if (rows.length < WALK_BATCH) return out;
    const last = rows.at(-1)!;
    after = p.keys.map((_, i) => last[`k${i}`]!);
  }
  return null; // sparse after all (other filters thin it out): let SQLite collect the matches
}

export function queryPage(db: Database, query: LibraryQuery): AssetPage {
  const p = plan(db, query);
  const withTotal = query?.withTotal === true;
  if (p.where.empty) return { items: [], nextCursor: null, total: withTotal ? 0 : null };
  let keyRows: KeyRow[] | null = null;
  // The dense walk pages by keyset only; an offset page lets SQLite collect the matches and skip.
  if (p.offset === 0 && p.where.match !== null && isDense(db, p.where.match)) keyRows = walkDense(db, p);
  if (keyRows === null) {
    const { sql, args } = keysSql(p, p.cursor, p.limit + 1, true, p.offset);
    keyRows = db.all<KeyRow>(sql, ...args);
  }
  const more = keyRows.length > p.limit;
  const page = more ? keyRows.slice(0, p.limit) : keyRows;
  const last = page.at(-1);
  const nextCursor = more && last ? encodeCursor({ s: p.sort, o: p.order, k: p.keys.map((_, i) => last[`k${i}`]!) }) : null;
  const bySeq = new Map(
    page.length === 0
      ? []
      : db.all<AssetRow>(`SELECT ${ASSET_COLUMNS} FROM assets WHERE seq IN (${page.map(() => '?').join(',')})`, ...page.map((r) => r.seq)).map((r) => [r.seq, r]),
  );
  const rows = page.map((r) => bySeq.get(r.seq)).filter((r): r is AssetRow => r !== undefined);
  return { items: viewsOf(db, rows), nextCursor, total: withTotal ? countMatches(db, query) : null };
}

export function countMatches(db: Database, query: LibraryQuery): number {
  const w = buildWhere(db, query ?? {});
  if (w.empty) return 0;
  const conditions = w.match === null ? w.sql : [...w.sql, FTS_FILTER];
  const args = w.match === null ? w.args : [...w.args, w.match];
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM assets WHERE ${conditions.join(' AND ')}`, ...args)?.n ?? 0;
}

/** Other live assets made with the same seed as `id`, newest first. */
export function sameSeed(db: Database, id: string, limit = 200): AssetView[] {
  const row = getAssetRow(db, id);
  if (!row) throw new StudioError('not_found', `no asset with id ${id}; it may have been deleted`);
  if (row.seed === null) return [];
  const rows = db.all<AssetRow>(
    `SELECT ${ASSET_COLUMNS} FROM assets WHERE seed = ? AND id != ? AND trashed_at IS NULL ORDER BY created_at DESC, seq DESC LIMIT ?`,
    row.seed,
    id,
    limit,
  );
  return viewsOf(db, rows);
}

/** Other live assets with exactly the same prompt as `id`, newest first. */
export function samePrompt(db: Database, id: string, limit = 200): AssetView[] {
  const row = getAssetRow(db, id);
  if (!row) throw new StudioError('not_found', `no asset with id ${id}; it may have been deleted`);
  if (row.prompt === null || row.prompt === '') return [];
  const rows = db.all<AssetRow>(
    `SELECT ${ASSET_COLUMNS} FROM assets
     WHERE ifnull(prompt, '') COLLATE NOCASE = ? AND prompt = ? AND id != ? AND trashed_at IS NULL
     ORDER BY created_at DESC, seq DESC LIMIT ?`,
    row.prompt,
    row.prompt,
    id,
    limit,
  );
  return viewsOf(db, rows);
}
