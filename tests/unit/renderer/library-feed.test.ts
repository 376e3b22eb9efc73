/**
 * The Library's feed against the real engine library (SQLite, keyset cursors) through the
 * contract's handlers: the right rows at any scroll depth, bounded memory, live changes without a
 * blank flash, in-place patches, errors that say what happened.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handlersFor } from '../../../src-main/engine/library/handlers.ts';
import { LibraryFeed } from '../../../src-renderer/src/features/library/feed.ts';
import type { FeedApi, FeedSnapshot } from '../../../src-renderer/src/features/library/feed.ts';
import { LibraryQuerySchema } from '../../../src-preload/contract/library.ts';
import type { AssetPage, LibraryQuery } from '../../../src-preload/contract/library.ts';
import { makeWorld } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

const ROWS = 3000;

/** Rows straight into the table (files are not needed to page through them). */
function seedRows(w: World, n: number, start = 0): string[] {
  const ids: string[] = [];
  w.db.transaction(() => {
    for (let i = start; i < start + n; i++) {
      const id = `r${String(i).padStart(6, '0')}`;
      ids.push(id);
      w.db.run(
        `INSERT INTO assets (id, bucket, kind, file_path, thumb_path, mime, width, height, file_size, sha256, prompt, model, created_at, updated_at)
         VALUES (?, 'sdxl_image_fast', 'image', ?, NULL, 'image/png', 64, 64, 100, ?, ?, ?, ?, ?)`,
        id,
        `sdxl_image_fast/2025/01/${id}.png`,
        id.padEnd(64, '0'),
        i % 3 === 0 ? `a red fox number ${i}` : `a lighthouse number ${i}`,
        i % 2 ? 'sdxl-base' : 'juggernaut',
        1_700_000_000_000 + i * 1000,
        1_700_000_000_000 + i * 1000,
      );
    }
  });
  return ids;
}

interface Harness {
  readonly api: FeedApi;
  readonly calls: LibraryQuery[];
  fail: string | null;
  /** Queries wait here while set (to look at the feed mid-refresh). */
  gate: Promise<void> | null;
}

function harness(w: World): Harness {
  const handlers = handlersFor(w.library);
  const h: Harness = {
    calls: [],
    fail: null,
    gate: null,
    api: {
      async query(q) {
        h.calls.push(q);
        if (h.gate) await h.gate;
        if (h.fail) throw Object.assign(new Error('raw'), { wire: { code: 'db', message: h.fail } });
        return handlers['library.query'](LibraryQuerySchema.parse(q)) as Promise<AssetPage>;
      },
      get: ({ id }) => handlers['library.get']({ id }),
    },
  };
  return h;
}

/** Resolves when the feed has no work left for what it was asked. */
function settled(feed: LibraryFeed, first: number, last: number): Promise<void> {
  return feed.loadRange(first, last);
}

describe('LibraryFeed', () => {
  let w: World;
  let ids: string[];
  let snapshots: FeedSnapshot[];
  let timers: (() => void)[];
  const makeFeed = (h: Harness, keepPages = 8) =>
    new LibraryFeed(h.api, (s) => snapshots.push(s), {
      pageSize: 100,
      maxFetch: 1000,
      keepPages,
      setTimer: (fn) => timers.push(fn),
      clearTimer: () => {},
    });
  const flushTimers = () => timers.splice(0).forEach((fn) => fn());

  beforeEach(() => {
    w = makeWorld();
    // Newest first is the default order: the last inserted row is index 0.
    ids = seedRows(w, ROWS).reverse();
    snapshots = [];
    timers = [];
  });
  afterEach(async () => {
    await w.close();
  });

  it('shows the first page with the count of every match', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 59);
    await settled(feed, 0, 59);
    expect(feed.snapshot).toMatchObject({ total: ROWS, status: 'ready', error: null });
    expect(Array.from({ length: 60 }, (_, i) => feed.at(i)?.id)).toEqual(ids.slice(0, 60));
    expect(h.calls[0]).toMatchObject({ withTotal: true, limit: 100 });
    expect(h.calls[0]!.cursor).toBeUndefined();
  });

  it('has the right rows deep in the list, reached with the engine’s cursors, and keeps memory bounded', async () => {
    const h = harness(w);
    const feed = makeFeed(h, 8);
    feed.setQuery({ sort: 'date', order: 'desc' });
    // A jump to the scroll bar's far end, then the middle, then back to the top.
    for (const at of [2850, 1500, 40, 2999]) {
      feed.want(at, at + 30);
      await settled(feed, at, Math.min(at + 30, ROWS - 1));
      for (let i = at; i <= Math.min(at + 30, ROWS - 1); i++) expect(feed.at(i)?.id, `row ${i}`).toBe(ids[i]);
      expect(feed.cachedRows).toBeLessThanOrEqual(8 * 100 + 500);
    }
    expect(feed.at(ROWS)).toBeUndefined();
    // No request asked for more than the contract allows.
    expect(h.calls.every((q) => (q?.limit ?? 0) <= 1000)).toBe(true);
    // Going back to a place visited before costs one request from a remembered cursor.
    const before = h.calls.length;
    feed.want(1500, 1530);
    await settled(feed, 1500, 1530);
    expect(h.calls.length - before).toBeLessThanOrEqual(1);
    expect(feed.at(1510)?.id).toBe(ids[1510]);
  });

  it('lands on a far page with one offset query, then reads on by cursor', async () => {
    const h = harness(w);
    // Small fetches: walking to row 2,850 from the first page would take 28 requests.
    const feed = new LibraryFeed(h.api, (s) => snapshots.push(s), { pageSize: 100, maxFetch: 100, keepPages: 8, setTimer: (fn) => timers.push(fn) });
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 30);
    await settled(feed, 0, 30);
    expect(h.calls).toHaveLength(1); // the first page, with the count
    // The scroll bar dragged near the end on a first visit: one request, not a walk of 28 pages.
    feed.want(2850, 2880);
    await settled(feed, 2850, 2880);
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]).toMatchObject({ offset: 2800, limit: 100 });
    expect(h.calls[1]!.cursor).toBeUndefined();
    for (let i = 2850; i <= 2880; i++) expect(feed.at(i)?.id, `row ${i}`).toBe(ids[i]);
    // Scrolling on from the landing place: the page after it by the cursor the offset page returned.
    feed.want(2900, 2930);
    await settled(feed, 2900, 2930);
    expect(h.calls).toHaveLength(3);
    expect(h.calls[2]!.offset).toBeUndefined();
    expect(typeof h.calls[2]!.cursor).toBe('string');
    for (let i = 2900; i <= 2930; i++) expect(feed.at(i)?.id, `row ${i}`).toBe(ids[i]);
    // Far before every anchor but the first: an offset again.
    feed.want(1000, 1010);
    await settled(feed, 1000, 1010);
    expect(h.calls).toHaveLength(4);
    expect(h.calls[3]).toMatchObject({ offset: 1000, limit: 100 });
    // Within a couple of pages of a known anchor: keyset.
    feed.want(150, 160);
    await settled(feed, 150, 160);
    expect(h.calls).toHaveLength(5);
    expect(h.calls[4]!.offset).toBeUndefined();
    expect(typeof h.calls[4]!.cursor).toBe('string');
    expect(feed.at(155)?.id).toBe(ids[155]);
  });

  it('an offset landing is re-read at the new places when assets are added meanwhile', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(1500, 1530);
    await settled(feed, 1500, 1530);
    expect(h.calls.some((q) => q?.offset === 1500)).toBe(true);
    const added = seedRows(w, 6, ROWS).reverse();
    feed.changed({ reason: 'added', ids: added });
    flushTimers();
    await expect.poll(() => feed.snapshot.total).toBe(ROWS + 6);
    await settled(feed, 1500, 1530);
    const now = [...added, ...ids];
    for (let i = 1500; i <= 1530; i++) expect(feed.at(i)?.id, `row ${i}`).toBe(now[i]);
  });

  it('an offset past the end (rows removed since the count) asks for the count again', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 10);
    await settled(feed, 0, 10);
    // Rows vanish without the change event having arrived yet.
    w.db.run('DELETE FROM assets WHERE seq IN (SELECT seq FROM assets ORDER BY seq LIMIT 1000)');
    feed.want(2500, 2530);
    await settled(feed, 2500, 2530);
    expect(h.calls.some((q) => q?.offset === 2500)).toBe(true);
    await expect.poll(() => feed.snapshot.total).toBe(ROWS - 1000);
    expect(feed.at(2500)).toBeUndefined();
  });

  it('filters, searches and sorts through the engine', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'prompt', order: 'asc', search: 'fox', models: ['juggernaut'] });
    feed.want(0, 50);
    await settled(feed, 0, 50);
    // i % 3 === 0 (fox) and even (juggernaut): i % 6 === 0 → 500 rows.
    expect(feed.snapshot.total).toBe(500);
    const prompts = Array.from({ length: 50 }, (_, i) => feed.at(i)!.prompt!);
    expect(prompts.every((p) => p.includes('fox'))).toBe(true);
    expect([...prompts].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))).toEqual(prompts);
  });

  it('new assets appear at the top, and the rows on screen stay until the new ones arrive', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 29);
    await settled(feed, 0, 29);
    const added = seedRows(w, 6, ROWS).reverse();
    let open!: () => void;
    h.gate = new Promise((r) => (open = r));
    feed.changed({ reason: 'added', ids: added });
    flushTimers();
    // Mid-refresh: still showing the old rows, not blanks.
    expect(feed.at(0)?.id).toBe(ids[0]);
    expect(feed.snapshot.total).toBe(ROWS);
    h.gate = null;
    open();
    await settled(feed, 0, 29);
    expect(feed.snapshot.total).toBe(ROWS + 6);
    expect(Array.from({ length: 8 }, (_, i) => feed.at(i)?.id)).toEqual([...added, ids[0], ids[1]]);
  });

  it('patches a new thumbnail in place without re-reading the list', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 29);
    await settled(feed, 0, 29);
    expect(feed.at(3)?.thumbUrl).toBeNull();
    w.db.run('UPDATE assets SET thumb_path = ? WHERE id = ?', `.thumbs/${ids[3]}.webp`, ids[3]);
    const queries = h.calls.length;
    const version = feed.snapshot.version;
    feed.changed({ reason: 'thumbnail', ids: [ids[3]!] });
    flushTimers();
    await expect.poll(() => feed.at(3)?.thumbUrl).toBe(`studio-media://asset/${ids[3]}/thumb`);
    expect(h.calls.length).toBe(queries);
    expect(feed.snapshot.version).toBeGreaterThan(version);
    expect(feed.at(4)?.id).toBe(ids[4]);
  });

  it('re-reads when an edit can change what a filter shows', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    w.db.run('UPDATE assets SET favorite = 1 WHERE id IN (?, ?)', ids[0], ids[1]);
    feed.setQuery({ sort: 'date', order: 'desc', favorite: true });
    feed.want(0, 10);
    await settled(feed, 0, 10);
    expect(feed.snapshot.total).toBe(2);
    w.db.run('UPDATE assets SET favorite = 0 WHERE id = ?', ids[0]);
    feed.changed({ reason: 'updated', ids: [ids[0]!] });
    flushTimers();
    await expect.poll(() => feed.snapshot.total).toBe(1);
    expect(feed.at(0)?.id).toBe(ids[1]);
  });

  it('says what went wrong, and recovers on reload', async () => {
    const h = harness(w);
    h.fail = 'the library database is locked by another program';
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 10);
    await expect(feed.loadRange(0, 10)).rejects.toBeTruthy();
    expect(feed.snapshot).toMatchObject({ status: 'error', error: 'the library database is locked by another program', total: null });
    h.fail = null;
    feed.reload();
    await settled(feed, 0, 10);
    expect(feed.snapshot).toMatchObject({ status: 'ready', total: ROWS });
  });

  it('resolves runs of ids for Shift-selection and every id for "select all"', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 99);
    await settled(feed, 0, 99);
    expect(feed.idsBetween(12, 9)).toEqual(ids.slice(9, 13));
    expect(feed.idsBetween(90, 150)).toBeNull();
    const all = await feed.allIds(new Set([ids[5]!]));
    expect(all.length).toBe(ROWS - 1);
    expect(new Set(all).has(ids[5]!)).toBe(false);
  });

  it('drops answers to an older question', async () => {
    const h = harness(w);
    const feed = makeFeed(h);
    let open!: () => void;
    h.gate = new Promise((r) => (open = r));
    feed.setQuery({ sort: 'date', order: 'desc' });
    feed.want(0, 10);
    feed.setQuery({ sort: 'date', order: 'desc', search: 'fox' });
    h.gate = null;
    open();
    await settled(feed, 0, 10);
    expect(feed.snapshot.total).toBe(1000);
    expect(feed.at(0)?.prompt).toContain('fox');
  });
});
