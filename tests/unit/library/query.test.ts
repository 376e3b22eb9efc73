import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LibraryQuerySchema } from '../../../src-preload/contract/library.ts';
import type { AssetView, LibraryQuery } from '../../../src-preload/contract/library.ts';
import { DENSE_MATCHES, ftsQuery, pageSql } from '../../../src-main/engine/library/query.ts';
import { addAsset, makeWorld } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

let w: World;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await w.close();
});

/** Every page of a query, following cursors. */
function allPages(q: NonNullable<LibraryQuery>): AssetView[][] {
  const pages: AssetView[][] = [];
  let cursor: string | undefined = q.cursor;
  for (let i = 0; i < 1000; i++) {
    const page = w.library.query({ ...q, cursor });
    pages.push([...page.items]);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return pages;
}

describe('keyset pages', () => {
  it('walks every asset exactly once, newest first, with ties on the date broken stably', () => {
    const ids: string[] = [];
    for (let i = 0; i < 53; i++) ids.push(addAsset(w, { createdAt: 1_000 + Math.floor(i / 5) }));
    const pages = allPages({ limit: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 10, 3]);
    const seen = pages.flat().map((a) => a.id);
    expect(new Set(seen).size).toBe(53);
    expect([...seen].sort()).toEqual([...ids].sort());
    const dates = pages.flat().map((a) => a.createdAt);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    // The same query again gives the same order (stable tiebreak).
    expect(allPages({ limit: 10 }).flat().map((a) => a.id)).toEqual(seen);
  });

  it('neither repeats nor skips a row when assets are added above the cursor between pages', () => {
    for (let i = 0; i < 30; i++) addAsset(w, { createdAt: 10_000 + i });
    const first = w.library.query({ limit: 10 });
    addAsset(w, { createdAt: 99_999 }); // newer than everything: belongs before page 1
    const rest = allPages({ limit: 10, cursor: first.nextCursor! });
    const all = [...first.items, ...rest.flat()].map((a) => a.createdAt);
    expect(all).toHaveLength(30);
    expect(new Set(all).size).toBe(30);
  });

  it.each([
    ['prompt', 'asc'],
    ['prompt', 'desc'],
    ['model', 'asc'],
    ['model', 'desc'],
    ['rating', 'desc'],
    ['rating', 'asc'],
    ['date', 'asc'],
  ] as const)('sorts by %s %s across pages, nulls included', (sort, order) => {
    const prompts = ['banana', 'Apple', 'cherry', null, 'apple pie', 'Banana split', 'date'];
    const models = ['zeta', null, 'alpha', 'Alpha', 'mid'];
    for (let i = 0; i < 35; i++) {
      addAsset(w, { prompt: prompts[i % prompts.length]!, model: models[i % models.length]!, rating: i % 6, createdAt: 5_000 + (i % 4) });
    }
    const flat = allPages({ sort, order, limit: 4 }).flat();
    expect(flat).toHaveLength(35);
    expect(new Set(flat.map((a) => a.id)).size).toBe(35);
    const key = (a: AssetView): string | number =>
      sort === 'prompt' ? (a.prompt ?? '').toLowerCase() : sort === 'model' ? (a.model ?? '') : sort === 'rating' ? a.rating : a.createdAt;
    const keys = flat.map(key);
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(keys).toEqual(order === 'asc' ? sorted : sorted.reverse());
  });

  it('refuses a cursor from another sort, or one it did not make, with a message saying what to do', () => {
    for (let i = 0; i < 5; i++) addAsset(w);
    const page = w.library.query({ limit: 2 });
    expect(() => w.library.query({ limit: 2, sort: 'rating', cursor: page.nextCursor! })).toThrow(/start again from the first page/);
    expect(() => w.library.query({ cursor: 'not-a-cursor' })).toThrow(/not one this library made/);
    expect(() => w.library.query({ cursor: Buffer.from('{"s":"date","o":"desc","k":["x; DROP TABLE assets",{}]}').toString('base64url') })).toThrow(/not valid/);
  });

  it('counts every match when asked', () => {
    for (let i = 0; i < 12; i++) addAsset(w, { favorite: i % 3 === 0 });
    expect(w.library.query({ limit: 2, favorite: true, withTotal: true }).total).toBe(4);
    expect(w.library.query({ limit: 2 }).total).toBeNull();
  });
});

describe('offset pages', () => {
  const SORTS = [
    ['date', 'desc'],
    ['date', 'asc'],
    ['prompt', 'asc'],
    ['prompt', 'desc'],
    ['model', 'asc'],
    ['model', 'desc'],
    ['rating', 'desc'],
    ['rating', 'asc'],
  ] as const;

  it.each(SORTS)('land on the same rows as the keyset pages, and continue by cursor (%s %s, ties included)', (sort, order) => {
    const prompts = ['banana', 'Apple', 'cherry', null, 'apple pie', 'Banana split', 'date'];
    const models = ['zeta', null, 'alpha', 'Alpha', 'mid'];
    for (let i = 0; i < 37; i++) {
      // Few distinct values per key, so most page boundaries fall inside a run of ties.
      addAsset(w, { prompt: prompts[i % prompts.length]!, model: models[i % models.length]!, rating: i % 3, createdAt: 5_000 + (i % 4) });
    }
    const limit = 4;
    const keyset = allPages({ sort, order, limit });
    const flat = keyset.flat().map((a) => a.id);
    expect(flat).toHaveLength(37);
    // Each keyset page, fetched by offset instead: same rows, same next cursor.
    let cursor: string | undefined;
    keyset.forEach((rows, i) => {
      const byOffset = w.library.query({ sort, order, limit, offset: i * limit });
      expect(byOffset.items.map((a) => a.id), `page ${i}`).toEqual(rows.map((a) => a.id));
      const byCursor = w.library.query({ sort, order, limit, cursor });
      expect(byOffset.nextCursor, `page ${i}`).toBe(byCursor.nextCursor);
      cursor = byCursor.nextCursor ?? undefined;
    });
    // Offsets between page boundaries too, and reading on from them by cursor covers the rest exactly once.
    for (const offset of [1, 7, 18, 33, 36]) {
      const landed = w.library.query({ sort, order, limit, offset });
      expect(landed.items.map((a) => a.id), `offset ${offset}`).toEqual(flat.slice(offset, offset + limit));
      const rest = landed.nextCursor ? allPages({ sort, order, limit: 5, cursor: landed.nextCursor }).flat() : [];
      expect([...landed.items, ...rest].map((a) => a.id), `offset ${offset}`).toEqual(flat.slice(offset));
    }
  });

  it('matches keyset pages with filters and a search, and gives the count when asked', () => {
    for (let i = 0; i < 40; i++) addAsset(w, { prompt: i % 2 ? `a red fox ${i}` : `a lighthouse ${i}`, favorite: i % 3 === 0, createdAt: 9_000 + (i % 5) });
    const q = { search: 'fox', sort: 'date', limit: 3 } as const;
    const flat = allPages(q).flat().map((a) => a.id);
    expect(flat).toHaveLength(20);
    const page = w.library.query({ ...q, offset: 10, withTotal: true });
    expect(page.items.map((a) => a.id)).toEqual(flat.slice(10, 13));
    expect(page.total).toBe(20);
    const fav = allPages({ favorite: true, limit: 50 }).flat().map((a) => a.id);
    expect(w.library.query({ favorite: true, limit: 2, offset: 5 }).items.map((a) => a.id)).toEqual(fav.slice(5, 7));
  });

  it('past the end is an empty page with no cursor; the last rows have no cursor either', () => {
    for (let i = 0; i < 9; i++) addAsset(w);
    expect(w.library.query({ limit: 5, offset: 9 })).toEqual({ items: [], nextCursor: null, total: null });
    expect(w.library.query({ limit: 5, offset: 1000, withTotal: true })).toEqual({ items: [], nextCursor: null, total: 9 });
    const tail = w.library.query({ limit: 5, offset: 6 });
    expect(tail.items).toHaveLength(3);
    expect(tail.nextCursor).toBeNull();
    expect(w.library.query({ limit: 5, offset: 4 }).nextCursor).toBeNull();
    expect(w.library.query({ limit: 5, offset: 3 }).nextCursor).not.toBeNull();
  });

  it('refuses offset together with cursor, in the contract and in the engine, saying which to give', () => {
    for (let i = 0; i < 5; i++) addAsset(w);
    const cursor = w.library.query({ limit: 2 }).nextCursor!;
    const parsed = LibraryQuerySchema.safeParse({ limit: 2, cursor, offset: 4 });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]).toMatchObject({ path: ['offset'], message: expect.stringMatching(/either cursor .* or offset .*, not both/) });
    expect(() => w.library.query({ limit: 2, cursor, offset: 4 })).toThrow(/either cursor .* or offset .*, not both/);
    expect(LibraryQuerySchema.safeParse({ limit: 2, offset: -1 }).success).toBe(false);
    expect(LibraryQuerySchema.safeParse({ limit: 2, offset: 1.5 }).success).toBe(false);
    expect(LibraryQuerySchema.parse({ limit: 2, offset: 0 })).toEqual({ limit: 2, offset: 0 });
  });
});

describe('filters', () => {
  it('narrows by kind, bucket, quality, model, dates, favourite, rating, project and trash', () => {
    w.db.run("INSERT INTO projects (id, title, created_at, updated_at) VALUES ('p1', 'Trailer', 0, 0)");
    const a = addAsset(w, { bucket: 'sdxl_image_high', model: 'sdxl-base', createdAt: 100, rating: 5, favorite: true, projectId: 'p1' });
    const b = addAsset(w, { bucket: 'video_fast', kind: 'video', model: 'wan-1.3b', createdAt: 200, rating: 3 });
    const c = addAsset(w, { bucket: 'user_uploads', model: null, createdAt: 300 });
    const d = addAsset(w, { bucket: 'sdxl_image_fast', createdAt: 400, trashedAt: 500 });
    const ids = (q: NonNullable<LibraryQuery>): string[] => w.library.query(q).items.map((x) => x.id).sort();
    expect(ids({})).toEqual([a, b, c].sort());
    expect(ids({ kind: 'video' })).toEqual([b]);
    expect(ids({ buckets: ['sdxl_image_high', 'user_uploads'] })).toEqual([a, c].sort());
    expect(ids({ quality: 'fast' })).toEqual([b]);
    expect(ids({ quality: 'high' })).toEqual([a]);
    expect(ids({ quality: 'high', buckets: ['video_fast'] })).toEqual([]);
    expect(ids({ models: ['wan-1.3b', 'sdxl-base'] })).toEqual([a, b].sort());
    expect(ids({ from: 150, to: 300 })).toEqual([b, c].sort());
    expect(ids({ favorite: true })).toEqual([a]);
    expect(ids({ favorite: false })).toEqual([b, c].sort());
    expect(ids({ minRating: 3 })).toEqual([a, b].sort());
    expect(ids({ projectId: 'p1' })).toEqual([a]);
    expect(ids({ projectId: null })).toEqual([b, c].sort());
    expect(ids({ trashed: true })).toEqual([d]);
  });

  it('filters by tags, all of them or any of them, case-insensitively', () => {
    const a = addAsset(w);
    const b = addAsset(w);
    addAsset(w);
    w.library.tag([a, b], ['Landscape']);
    w.library.tag([a], ['keeper']);
    const ids = (q: NonNullable<LibraryQuery>): string[] => w.library.query(q).items.map((x) => x.id).sort();
    expect(ids({ tags: ['landscape'] })).toEqual([a, b].sort());
    expect(ids({ tags: ['landscape', 'KEEPER'] })).toEqual([a]);
    expect(ids({ tags: ['keeper', 'nope'] })).toEqual([]);
    expect(ids({ tags: ['keeper', 'nope'], tagMode: 'any' })).toEqual([a]);
    expect(w.library.query({ tags: ['keeper'] }).items[0]!.tags).toEqual(['keeper', 'Landscape']);
  });
});

describe('full-text search', () => {
  beforeEach(() => {
    addAsset(w, { id: 'fox', prompt: 'A red fox in the snowy forest', negativePrompt: 'blurry' });
    addAsset(w, { id: 'cafe', prompt: 'Café terrace at night, Van Gogh style' });
    addAsset(w, { id: 'enh', prompt: 'a cat', enhancedPrompt: 'a fluffy ginger cat sleeping on a windowsill, golden hour' });
    addAsset(w, { id: 'neg', prompt: 'portrait', negativePrompt: 'watermark, foxes' });
  });
  const search = (text: string): string[] => w.library.query({ search: text }).items.map((x) => x.id).sort();

  it('matches prompt, negative and enhanced prompt, words as prefixes, any order, accents folded', () => {
    expect(search('fox')).toEqual(['fox', 'neg']);
    expect(search('forest red')).toEqual(['fox']);
    expect(search('snow')).toEqual(['fox']);
    expect(search('ginger')).toEqual(['enh']);
    expect(search('cafe')).toEqual(['cafe']);
    expect(search('CAFÉ TERR')).toEqual(['cafe']);
    expect(search('fox zebra')).toEqual([]);
  });

  it('treats FTS syntax in user text as plain words, never as operators or an error', () => {
    for (const hostile of [
      '"', '""', 'fox"', '"fox', 'fox OR cat', 'NEAR(fox cat)', 'prompt:fox', '-fox', 'fox*', '*', '(', ')',
      'fox AND', 'NOT fox', '^fox', 'fox + cat', "'; DROP TABLE assets; --", '{prompt negative_prompt}: fox', '\u0000', 'a'.repeat(400),
    ]) {
      expect(() => search(hostile), hostile).not.toThrow();
    }
    // "OR" is a word, not an operator: nothing has both "fox" and a word starting with "or".
    expect(search('fox OR cat')).toEqual([]);
    expect(search('prompt:fox')).toEqual([]);
    expect(search('"fox"')).toEqual(['fox', 'neg']);
    expect(search('(fox)')).toEqual(['fox', 'neg']);
    expect(w.db.get<{ n: number }>('SELECT count(*) AS n FROM assets')!.n).toBe(4);
  });

  it('builds quoted prefix phrases from user text', () => {
    expect(ftsQuery('red "fox"')).toBe('"red"* """fox"""*');
    expect(ftsQuery('  ')).toBeNull();
    expect(ftsQuery('*** ---')).toBeNull();
  });

  it('keeps the index in step with edits and deletes (triggers)', () => {
    w.db.run("UPDATE assets SET prompt = 'a grey wolf' WHERE id = 'fox'");
    expect(search('wolf')).toEqual(['fox']);
    expect(search('red')).toEqual([]);
    w.db.run("DELETE FROM assets WHERE id = 'cafe'");
    expect(search('terrace')).toEqual([]);
    expect(() => w.db.run("INSERT INTO assets_fts (assets_fts, rank) VALUES ('integrity-check', 1)")).not.toThrow();
  });
});

describe('same seed, same prompt', () => {
  it('finds other live assets with the seed or the exact prompt of one', () => {
    const a = addAsset(w, { seed: 42, prompt: 'a lighthouse' });
    const b = addAsset(w, { seed: 42, prompt: 'A lighthouse' });
    const c = addAsset(w, { seed: 7, prompt: 'a lighthouse' });
    addAsset(w, { seed: 42, prompt: 'a lighthouse', trashedAt: 1 });
    expect(w.library.sameSeed(a).map((x) => x.id)).toEqual([b]);
    expect(w.library.samePrompt(a).map((x) => x.id)).toEqual([c]);
    expect(() => w.library.sameSeed('missing')).toThrow(/no asset/);
  });
});

describe('query plans', () => {
  it('every sort and common filter reads an index, never a full table scan', () => {
    for (let i = 0; i < 30; i++) addAsset(w, { rating: i % 5 });
    w.db.run("INSERT INTO tags (id, name, created_at, updated_at) VALUES ('t', 'x', 0, 0)");
    const queries: NonNullable<LibraryQuery>[] = [
      {},
      { sort: 'prompt' },
      { sort: 'model', order: 'desc' },
      { sort: 'rating' },
      { favorite: true },
      { buckets: ['video_fast'] },
      { projectId: 'p' },
      { models: ['m'] },
      { search: 'fox' },
      { tags: ['x'] },
      { trashed: true },
      { kind: 'video', minRating: 3, sort: 'rating' },
      { offset: 20 },
      { sort: 'prompt', offset: 10 },
      { sort: 'rating', order: 'asc', offset: 5 },
    ];
    for (const q of queries) {
      const parsed = LibraryQuerySchema.parse(q);
      const { sql, args } = pageSql(w.db, parsed);
      const plan = w.db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args).map((r) => String((r as { detail: string }).detail));
      expect(plan.join(' | '), JSON.stringify(q)).not.toMatch(/SCAN assets(?!_fts)(?! USING)/);
    }
  });
});

describe('dense searches (a word in most prompts)', () => {
  it('walks the sort order in batches and returns exactly what collecting every match would', () => {
    // 12,000 assets, "common" in 90% of prompts: above DENSE_MATCHES, so pages are walked.
    w.db.raw.exec(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 11999)
      INSERT INTO assets (id, bucket, kind, file_path, mime, file_size, sha256, prompt, model, rating, favorite, trashed_at, created_at, updated_at)
      SELECT 'd' || i, CASE i % 3 WHEN 0 THEN 'video_fast' ELSE 'sdxl_image_fast' END, CASE i % 3 WHEN 0 THEN 'video' ELSE 'image' END,
             'f' || i, 'image/png', 1, 's' || i,
             CASE WHEN i % 10 = 0 THEN 'rare ' || (i % 97) ELSE 'common words ' || (i % 89) || ' fox' END,
             'm' || (i % 5), i % 6, i % 7 = 0, CASE WHEN i % 50 = 0 THEN 1 END, 1000000 + (i * 7919) % 12000, 0
      FROM n;`);
    expect(DENSE_MATCHES).toBeLessThanOrEqual(10_800);
    const oracle = (q: NonNullable<LibraryQuery>): string[] => {
      const all: string[] = [];
      let cursor: string | undefined;
      // The oracle: SQLite collecting every match (a search too rare to be dense, ANDed on the same rows).
      for (;;) {
        const page = w.library.query({ ...q, search: undefined, limit: 1000, cursor });
        all.push(...page.items.filter((a) => /\bcommon\b/.test(a.prompt ?? '')).map((a) => a.id));
        if (!page.nextCursor) return all;
        cursor = page.nextCursor;
      }
    };
    for (const q of [
      {},
      { sort: 'prompt' },
      { sort: 'rating', order: 'asc' },
      { kind: 'video' },
      { favorite: true, sort: 'model' },
      { trashed: true },
    ] as NonNullable<LibraryQuery>[]) {
      const walked = allPages({ ...q, search: 'common', limit: 250 }).flat().map((a) => a.id);
      expect(walked, JSON.stringify(q)).toEqual(oracle(q));
      // An offset page of a dense search lands where the walk would have got to.
      const landed = w.library.query({ ...q, search: 'common', limit: 250, offset: 1234 });
      expect(landed.items.map((a) => a.id), JSON.stringify(q)).toEqual(walked.slice(1234, 1484));
      const onward = landed.nextCursor ? w.library.query({ ...q, search: 'common', limit: 250, cursor: landed.nextCursor }).items : [];
      expect(onward.map((a) => a.id), JSON.stringify(q)).toEqual(walked.slice(1484, 1734));
    }
    expect(w.library.query({ search: 'common', withTotal: true, limit: 1 }).total).toBe(10_800);
  });
});
