/**
 * The cloud mirror end to end: two desktops (two data folders, two studio databases) sync through
 * the unmodified @supabase/supabase-js to ONE real PostgreSQL carrying the real migration and
 * tests/helpers/postgres/supabase-shim.sql. Only the HTTP front is a stand-in
 * (tests/helpers/supabase-standin: GoTrue's password grant and PostgREST's /rpc); every push and
 * pull runs as role `authenticated` with the user's JWT claims, so the real RLS, triggers and
 * sync_push/sync_pull decide.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../src-main/engine/library/import.ts';
import { checkLibrary } from '../../src-main/engine/library/check.ts';
import { tagAssets, untagAssets, updateAsset } from '../../src-main/engine/library/organise.ts';
import { emptyTrash, trashAssets } from '../../src-main/engine/library/trash.ts';
import { createProject } from '../../src-main/engine/library/projects.ts';
import { moveToProject } from '../../src-main/engine/library/organise.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { JobQueue } from '../../src-main/engine/jobs/queue.ts';
import { insertAssets, placeOutputs } from '../../src-main/engine/library/ingest.ts';
import { resolveRequest } from '../../src-preload/contract/catalog.ts';
import { setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { SupabaseTransport, TransportError } from '../../src-main/engine/sync/transport.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset, makeWorld, type World } from '../fixtures/library/world.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error(
    'PostgreSQL is not installed, so the cloud sync tests cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).',
  );
}

const EMAIL = 'creator@example.com';
const PASSWORD = 'correct horse battery staple';

interface Desktop {
  readonly w: World;
  readonly transport: SupabaseTransport;
  readonly engine: SyncEngine;
}

interface LocalAsset {
  id: string;
  prompt: string | null;
  seed: number | null;
  favorite: number;
  title: string | null;
  trashed_at: number | null;
  project_id: string | null;
  sha256: string;
  file_size: number;
}

describe.skipIf(!bin)('cloud sync: two desktops through supabase-js and a stand-in HTTP front to one real PostgreSQL', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let userId: string;
  const desktops: Desktop[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'cloud-sync-src-'));

  async function desktop(options: { enable?: boolean; signIn?: boolean } = {}): Promise<Desktop> {
    const w = makeWorld();
    const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    if (options.signIn ?? true) await transport.signIn(EMAIL, PASSWORD);
    if (options.enable ?? true) setSyncEnabled(w.db, true);
    const engine = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library, backoffMs: 50, maxBackoffMs: 200, intervalMs: 50 });
    const d = { w, transport, engine };
    desktops.push(d);
    return d;
  }

  let n = 0;
  /** A PNG with A1111 parameters imported through the library's real import. */
  async function importPng(d: Desktop, prompt: string, seed: number): Promise<string> {
    const dir = join(scratch, `in-${n++}`);
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'shot.png'),
      pilPng({ width: 8, height: 8, seed: n, text: [['parameters', `${prompt}\nSteps: 4, Sampler: Euler, CFG scale: 2, Seed: ${seed}, Size: 8x8`]] }),
    );
    const report = await importFolder(d.w.db, d.w.layout.library, dir);
    expect(report.imported).toHaveLength(1);
    return report.imported[0]!.id;
  }

  const asset = (d: Desktop, id: string) =>
    d.w.db.get<LocalAsset>('SELECT id, prompt, seed, favorite, title, trashed_at, project_id, sha256, file_size FROM assets WHERE id = ?', id);
  const tags = (d: Desktop, id: string) =>
    d.w.db
      .all<{ name: string }>('SELECT t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id WHERE at.asset_id = ? ORDER BY t.name', id)
      .map((r) => r.name);
  const waiting = (d: Desktop) => d.w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n;
  const cloud = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;

  beforeAll(async () => {
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(join(dir, f), 'utf8'));
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    userId = await standin.addUser(EMAIL, PASSWORD);
  }, 120_000);

  afterAll(async () => {
    for (const d of desktops) {
      await d.engine.stop();
      await d.w.close();
    }
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('signs in through supabase-js, and a wrong password gets a sentence saying what to check', async () => {
    const t = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await expect(t.signIn(EMAIL, 'wrong')).rejects.toThrow(/could not sign in as creator@example.com: Invalid login credentials\. Check the email and password/);
    await t.signIn(EMAIL, PASSWORD);
    expect(t.user).toBe(EMAIL);
  });

  it('an asset made on A appears on B with its prompt, seed, tags and favourite', async () => {
    const a = await desktop();
    const b = await desktop();
    const id = await importPng(a, 'a harbour at dusk', 4242);
    tagAssets(a.w.db, [id], ['Harbour', 'dusk']);
    updateAsset(a.w.db, id, { favorite: true, title: 'Evening' });
    expect(waiting(a)).toBeGreaterThan(0);

    const pushed = await a.engine.syncNow();
    expect(pushed.pushed).toBeGreaterThanOrEqual(3); // the asset, two tags (its later edits may share ops)
    expect(pushed.rejected).toBe(0);
    expect(waiting(a)).toBe(0);

    // Postgres holds it under the signed-in user, with a clock on every field it set.
    const [img] = await cloud('select user_id, prompt, seed, favorite, title, clocks from public.images where id = $1', [id]);
    expect(img).toMatchObject({ user_id: userId, prompt: 'a harbour at dusk', seed: '4242', favorite: true, title: 'Evening' });
    expect(Object.keys(img.clocks as object)).toEqual(expect.arrayContaining(['prompt', 'seed', 'favorite', 'title', 'sha256']));

    const pulled = await b.engine.syncNow();
    expect(pulled.applied).toBeGreaterThanOrEqual(3);
    const onB = asset(b, id)!;
    const onA = asset(a, id)!;
    expect(onB).toMatchObject({ prompt: 'a harbour at dusk', seed: 4242, favorite: 1, title: 'Evening', sha256: onA.sha256, file_size: onA.file_size });
    expect(tags(b, id)).toEqual(['dusk', 'Harbour']);
    // Applying a pull records nothing to push back.
    expect(waiting(b)).toBe(0);
    // Its original is only in the cloud (files are not mirrored yet): library check leaves it be.
    const report = await checkLibrary(b.w.db, b.w.layout.library, { repair: true });
    expect(report.findings.filter((x) => x.assetId === id)).toEqual([]);
    expect(asset(b, id)?.trashed_at).toBeNull();
    expect(waiting(b)).toBe(0);
    const again = await b.engine.syncNow();
    expect(again).toMatchObject({ pushed: 0, applied: 0 });
    const status = b.engine.status();
    expect(status).toMatchObject({ enabled: true, signedInAs: EMAIL, waiting: 0, failures: [], lastError: null });
    expect(status.lastSyncAt).not.toBeNull();
  });

  for (const order of ['A first', 'B first'] as const) {
    it(`a tag added on A and a favourite set on B while both were offline both hold (${order})`, async () => {
      const a = await desktop();
      const b = await desktop();
      const id = await importPng(a, `offline edits ${order}`, 7);
      await a.engine.syncNow();
      await b.engine.syncNow();
      expect(asset(b, id)?.favorite).toBe(0);

      // Offline: nothing syncs while these happen.
      tagAssets(a.w.db, [id], ['keeper']);
      updateAsset(b.w.db, id, { favorite: true });
      // The same field on both: the later write wins everywhere.
      updateAsset(a.w.db, id, { title: 'from A' });
      await new Promise((r) => setTimeout(r, 5));
      updateAsset(b.w.db, id, { title: 'from B, later' });

      const [first, second] = order === 'A first' ? [a, b] : [b, a];
      await first.engine.syncNow();
      await second.engine.syncNow();
      await first.engine.syncNow();

      for (const d of [a, b]) {
        expect(asset(d, id)).toMatchObject({ favorite: 1, title: 'from B, later' });
        expect(tags(d, id)).toEqual(['keeper']);
        expect(waiting(d)).toBe(0);
      }
      const [img] = await cloud('select favorite, title from public.images where id = $1', [id]);
      expect(img).toEqual({ favorite: true, title: 'from B, later' });
      const cloudTags = await cloud('select tag from public.asset_tags where asset_id = $1 and deleted_at is null', [id]);
      expect(cloudTags).toEqual([{ tag: 'keeper' }]);
    });
  }

  it('an edit made on B while its sync is in flight is not overwritten by an older change the same sync pulls', async () => {
    const a = await desktop();
    const b = await desktop();
    const id = await importPng(a, 'raced', 21);
    await a.engine.syncNow();
    await b.engine.syncNow();
    updateAsset(a.w.db, id, { title: 'older, from A' });
    await a.engine.syncNow();
    await new Promise((r) => setTimeout(r, 5));
    // B's user renames it between B's push and B's pull (the pull then brings A's older title).
    const inner = b.transport;
    let edited = false;
    const racing = {
      get user() {
        return inner.user;
      },
      push: (ops: Parameters<typeof inner.push>[0]) => inner.push(ops),
      pull: async (since: number, lim: number) => {
        if (!edited) {
          edited = true;
          updateAsset(b.w.db, id, { title: 'newer, from B' });
        }
        return inner.pull(since, lim);
      },
    };
    const raced = new SyncEngine({ db: b.w.db, transport: racing });
    await raced.syncNow();
    expect(asset(b, id)?.title).toBe('newer, from B');
    await b.engine.syncNow();
    await a.engine.syncNow();
    expect(asset(a, id)?.title).toBe('newer, from B');
    const [img] = await cloud('select title from public.images where id = $1', [id]);
    expect(img.title).toBe('newer, from B');
  });

  it('a tag removed, a project move and the trash on one desktop reach the other', async () => {
    const a = await desktop();
    const b = await desktop();
    const id = await importPng(a, 'organised', 11);
    tagAssets(a.w.db, [id], ['draft', 'sea']);
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(tags(b, id)).toEqual(['draft', 'sea']);

    untagAssets(b.w.db, [id], ['draft']);
    const project = createProject(b.w.db, { title: 'Coastline' });
    moveToProject(b.w.db, [id], project.id);
    trashAssets(b.w.db, [id]);
    await b.engine.syncNow();
    await a.engine.syncNow();
    expect(tags(a, id)).toEqual(['sea']);
    expect(asset(a, id)?.project_id).toBe(project.id);
    expect(asset(a, id)?.trashed_at).not.toBeNull();
    expect(a.w.db.get<{ title: string }>('SELECT title FROM projects WHERE id = ?', project.id)?.title).toBe('Coastline');
  });

  it('a delete for good on A removes the asset on B', async () => {
    const a = await desktop();
    const b = await desktop();
    const id = await importPng(a, 'to be deleted', 99);
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(asset(b, id)).toBeDefined();

    trashAssets(a.w.db, [id]);
    const r = await emptyTrash(a.w.db, a.w.layout.library, { ids: [id] });
    expect(r.deleted).toBe(1);
    await a.engine.syncNow();
    const [row] = await cloud('select deleted_at from public.images where id = $1', [id]);
    expect(row.deleted_at).not.toBeNull();

    await b.engine.syncNow();
    expect(asset(b, id)).toBeUndefined();
    expect(waiting(b)).toBe(0);
  });

  it('a network dropped mid-push loses nothing: the same op ids are sent again and the server applies each once', async () => {
    const a = await desktop();
    const b = await desktop();
    const id = await importPng(a, 'through a bad connection', 5);
    tagAssets(a.w.db, [id], ['storm']);
    const ops = a.w.db.all<{ op_id: string }>('SELECT op_id FROM sync_outbox ORDER BY seq').map((r) => r.op_id);
    expect(ops.length).toBe(2);

    // The server commits the push, then the connection is cut before the answer.
    standin.dropResponses(1);
    await expect(a.engine.syncNow()).rejects.toThrow(TransportError);
    expect(waiting(a)).toBe(2);
    expect(a.w.db.all('SELECT attempts FROM sync_outbox')).toEqual([{ attempts: 1 }, { attempts: 1 }]);
    const applied = await cloud('select op_id from public.applied_ops where op_id = any($1::uuid[])', [ops]);
    expect(applied).toHaveLength(2);

    // The server down altogether: still nothing lost, and the reason is shown.
    await standin.stop();
    await expect(a.engine.syncNow()).rejects.toThrow(/will try again/);
    expect(a.engine.status()).toMatchObject({ waiting: 2, lastError: expect.stringMatching(/could not send changes to the cloud/) });
    updateAsset(a.w.db, id, { favorite: true }); // edits go on offline
    expect(waiting(a)).toBe(3);

    // Running in the background, it backs off while the server is down and completes once it is back.
    a.engine.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(waiting(a)).toBe(3);
    await standin.start();
    const deadline = Date.now() + 10_000;
    while (waiting(a) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await a.engine.stop();
    expect(waiting(a)).toBe(0);
    const once = await cloud('select count(*)::int as n from public.applied_ops where op_id = any($1::uuid[])', [ops]);
    expect(once[0].n).toBe(2);

    await b.engine.syncNow();
    expect(asset(b, id)).toMatchObject({ prompt: 'through a bad connection', favorite: 1 });
    expect(tags(b, id)).toEqual(['storm']);
  });

  it('finished job records land in the cloud from the desktop that ran them, a done job with its assets in the same transaction', async () => {
    const a = await desktop();
    const b = await desktop();
    const queue = new JobQueue(a.w.db, { instanceId: 'sync-test', maxAttempts: 1, backoff: { baseMs: 1000, capMs: 5000 } });
    const done = queue.enqueue('sdxl_image_fast', resolveRequest({ type: 'sdxl_image_fast', prompt: 'a lantern in fog' }, () => 77).params);
    queue.claim(done.id);
    const staged = join(scratch, `staged-${n++}.png`);
    writeFileSync(staged, pilPng({ width: 8, height: 8, seed: 5 }));
    const result = {
      outputs: [{ file: staged, thumbFile: null, kind: 'image' as const, mime: 'image/png', width: 8, height: 8, batchIndex: 0, seed: 77, durationMs: null, fps: null, frameCount: null, recipe: { seed: 77 } }],
      provider: 'cpu',
      providerNote: null,
      enhancedPrompt: null,
      timings: { totalMs: 1234 },
    };
    const placed = await placeOutputs(a.w.layout.library, queue.get(done.id)!, result);
    queue.complete(done.id, placed.map((p) => p.id), () => insertAssets(a.w.db, queue.get(done.id)!, placed, result));
    const failed = queue.enqueue('video_fast', resolveRequest({ type: 'video_fast', prompt: 'a wave' }, () => 3).params);
    queue.claim(failed.id);
    queue.fail(failed.id, 'model_missing', 'no WAN model is ready', { transient: false });

    await a.engine.syncNow();
    const jobs = await cloud('select id, status, device_id, original_prompt, error_message from public.jobs where id = any($1::uuid[]) order by status', [[done.id, failed.id]]);
    const device = a.w.db.get<{ value: string }>(`SELECT value FROM engine_state WHERE key = 'sync.device'`)!.value;
    expect(jobs).toEqual([
      { id: done.id, status: 'done', device_id: device, original_prompt: 'a lantern in fog', error_message: null },
      { id: failed.id, status: 'failed', device_id: device, original_prompt: 'a wave', error_message: 'no WAN model is ready' },
    ]);
    const [img] = await cloud('select job_id, seed, prompt, timings from public.images where id = $1', [placed[0]!.id]);
    expect(img).toEqual({ job_id: done.id, seed: '77', prompt: 'a lantern in fog', timings: { totalMs: 1234 } });

    await b.engine.syncNow();
    expect(asset(b, placed[0]!.id)).toMatchObject({ prompt: 'a lantern in fog', seed: 77 });
    // The job record stays the other desktop's: B's queue holds only what B ran.
    expect(b.w.db.get('SELECT id FROM jobs WHERE id = ?', done.id)).toBeUndefined();
  });

  it('with sync off nothing is recorded or sent; turning it on back-fills the library in one pass', async () => {
    const c = await desktop({ enable: false });
    const before = standin.requestCount();
    const old = addAsset(c.w, { prompt: 'made before sync was on', seed: 3 }); // an asset already in the library
    const id = await importPng(c, 'made while sync was off', 8);
    tagAssets(c.w.db, [id], ['private']);
    updateAsset(c.w.db, id, { favorite: true });
    expect(waiting(c)).toBe(0);
    expect(await c.engine.syncNow()).toEqual({ pushed: 0, duplicates: 0, rejected: 0, pulled: 0, applied: 0, uploaded: 0, downloaded: 0, removed: 0 });
    expect(standin.requestCount()).toBe(before);
    expect(await cloud('select id from public.images where id = any($1::uuid[])', [[old, id]])).toEqual([]);

    const { backfilled } = setSyncEnabled(c.w.db, true);
    expect(backfilled).toBe(3); // two assets and the tag
    // Paused: still nothing sent.
    c.engine.pause();
    await c.engine.syncNow();
    expect(standin.requestCount()).toBe(before);
    c.engine.resume();
    const r = await c.engine.syncNow();
    // The three records, then the storage path of the one original that went up (the imported
    // picture is in user_uploads, which stays on this computer).
    expect(r.uploaded).toBe(1);
    expect(r.pushed).toBe(4);
    expect(standin.requestCount('/rest/v1/rpc/sync_push')).toBeGreaterThan(0);
    const rows = await cloud('select prompt, favorite from public.images where id = any($1::uuid[]) order by prompt', [[old, id]]);
    expect(rows).toEqual([
      { prompt: 'made before sync was on', favorite: false },
      { prompt: 'made while sync was off', favorite: true },
    ]);

    // Off again: changes made now are not recorded, and a sync sends nothing.
    setSyncEnabled(c.w.db, false);
    const mid = standin.requestCount();
    updateAsset(c.w.db, id, { title: 'never sent' });
    await c.engine.syncNow();
    expect(standin.requestCount()).toBe(mid);
    expect(waiting(c)).toBe(0);
  });

  it('an access token near its expiry is refreshed through the refresh grant before a push', async () => {
    const short = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user }, tokenSeconds: 30 });
    try {
      await short.addUser('short@example.com', PASSWORD);
      const w = makeWorld();
      try {
        const transport = new SupabaseTransport({ url: short.url, anonKey: short.anonKey });
        await transport.signIn('short@example.com', PASSWORD);
        expect(short.requestCount('/auth/v1/token')).toBe(1);
        setSyncEnabled(w.db, true);
        addAsset(w, { prompt: 'short-lived token' });
        setSyncEnabled(w.db, false);
        setSyncEnabled(w.db, true); // back-fills the asset added behind the library's back
        const r = await new SyncEngine({ db: w.db, transport }).syncNow();
        expect(r.pushed).toBe(1);
        // supabase-js refreshes a session within 90 s of expiry before using it.
        expect(short.requestCount('/auth/v1/token')).toBeGreaterThan(1);
      } finally {
        await w.close();
      }
    } finally {
      await short.close();
    }
  });

  it('a token the server stops accepting (401) is refreshed once and the request sent again', async () => {
    const own = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    const w = makeWorld();
    try {
      await own.addUser('rotated@example.com', PASSWORD);
      const transport = new SupabaseTransport({ url: own.url, anonKey: own.anonKey });
      await transport.signIn('rotated@example.com', PASSWORD);
      addAsset(w, { prompt: 'after a key rotation' });
      setSyncEnabled(w.db, true);
      own.rotateSigningKey();
      const r = await new SyncEngine({ db: w.db, transport }).syncNow();
      expect(r.pushed).toBe(1);
      expect(own.requestCount('/auth/v1/token')).toBe(2); // the sign-in, then one refresh
      expect(own.requests.get('POST /rest/v1/rpc/sync_push')).toBe(2); // refused once, then applied
    } finally {
      await w.close();
      await own.close();
    }
  });

  it('a change the server refuses is kept with its reason and not sent again until retried', async () => {
    const a = await desktop();
    const id = await importPng(a, 'refused', 1);
    // A clock two days ahead (a wrong computer clock) is refused by the server.
    a.w.db.run(`UPDATE sync_outbox SET hlc = ? WHERE row_id = ?`, `${String(Date.now() + 2 * 86_400_000).padStart(15, '0')}:000000:skewed`, id);
    const r = await a.engine.syncNow();
    expect(r.rejected).toBe(1);
    const status = a.engine.status();
    expect(status.waiting).toBe(0);
    expect(status.failures).toEqual([{ opId: expect.any(String), table: 'images', id, reason: expect.stringMatching(/more than a day ahead of the server clock/) }]);
    expect((await a.engine.syncNow()).rejected).toBe(0);
    expect(a.engine.retryRejected()).toBe(1);
    expect(a.engine.status().waiting).toBe(1);
  });
});
