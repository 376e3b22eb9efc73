/**
 * Library queries: filters, four sorts, keyset pages behind an opaque cursor, full-text search.
 *
 * Every sort is a tuple of key expressions ending in `seq` (unique, stable), so a page boundary is
 * one row-value comparison — `(created_at, seq) < (?, ?)` — which SQLite turns into a range on the
 * sort's index: page 1,000 costs what page 1 costs, and rows added or removed meanwhile never
 * duplicate or skip a row. User search text is only ever passed as quoted FTS5 phrases.
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
 * parentheses and NEAR in the input are plain text. Null when nothing searchable is left.
 */
export function ftsQuery(text: string): string | null {
  const words = text
    .normalize('NFKC')
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .slice(0, 32);
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(' ');
}

interface Where {
  sql: string[];
  args: SQLInputValue[];
  /** A filter that can match nothing (an unknown tag in 'all' mode). */
  empty: boolean;
}

function buildWhere(db: Database, q: NonNullable<LibraryQuery>): Where {
  const w: Where = { sql: [], args: [], empty: false };
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
    const match = ftsQuery(q.search);
    if (match === null) w.empty = true;
    else {
      w.sql.push('seq IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?)');
      w.args.push(match);
    }
  }
  return w;
}

/** The SQL a query runs (exported for EXPLAIN QUERY PLAN checks in tests and the benchmark). */
export function pageSql(
  db: Database,
  query: LibraryQuery,
): { sql: string; args: SQLInputValue[]; empty: boolean; sort: LibrarySort; order: 'asc' | 'desc'; limit: number } {
  const q = query ?? {};
  const sort = q.sort ?? 'date';
  const order = q.order ?? (sort === 'prompt' || sort === 'model' ? 'asc' : 'desc');
  const limit = q.limit ?? DEFAULT_PAGE;
  const w = buildWhere(db, q);
  const keys = SORT_KEYS[sort];
  const conditions = [...w.sql];
  const args = [...w.args];
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, sort, order);
    conditions.push(`(${keys.join(', ')}) ${order === 'desc' ? '<' : '>'} (${keys.map(() => '?').join(', ')})`);
    args.push(...c.k);
  }
  const dir = order === 'desc' ? 'DESC' : 'ASC';
  const keyColumns = keys.map((k, i) => `${k.replace(/ COLLATE NOCASE$/, '')} AS k${i}`).join(', ');
  const sql = `SELECT ${ASSET_COLUMNS}, ${keyColumns} FROM assets WHERE ${conditions.join(' AND ')}
    ORDER BY ${keys.map((k) => `${k} ${dir}`).join(', ')} LIMIT ?`;
  args.push(limit + 1);
  return { sql, args, empty: w.empty, sort, order, limit };
}

export function queryPage(db: Database, query: LibraryQuery): AssetPage {
  const { sql, args, empty, sort, order, limit } = pageSql(db, query);
  if (empty) return { items: [], nextCursor: null, total: query?.withTotal ? 0 : null };
  const rows = db.all<AssetRow & Record<`k${number}`, string | number>>(sql, ...args);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  const nextCursor =
    more && last ? encodeCursor({ s: sort, o: order, k: SORT_KEYS[sort].map((_, i) => last[`k${i}`]!) }) : null;
  let total: number | null = null;
  if (query?.withTotal) total = countMatches(db, query);
  return { items: viewsOf(db, page), nextCursor, total };
}

export function countMatches(db: Database, query: LibraryQuery): number {
  const w = buildWhere(db, query ?? {});
  if (w.empty) return 0;
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM assets WHERE ${w.sql.join(' AND ')}`, ...w.args)?.n ?? 0;
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
