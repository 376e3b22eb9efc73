/**
 * The files of the cloud mirror end to end: two desktops (two data folders) send originals and
 * thumbnails to Storage and bring them down, through the unmodified supabase-js and tus-js-client,
 * to the loopback stand-in (tests/helpers/supabase-standin: GoTrue, PostgREST's /rpc, Storage's
 * objects and TUS uploads) in front of ONE real PostgreSQL with the real migrations, so the storage
 * policies decide every object read and write. A TCP proxy in front cuts uploads mid-chunk.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyTrash, trashAssets } from '../../src-main/engine/library/trash.ts';
import { updateAsset } from '../../src-main/engine/library/organise.ts';
import { relativeThumbPath } from '../../src-main/engine/library/store.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { TUS_CHUNK, filesStatus, setMirrorSettings } from '../../src-main/engine/sync/files.ts';
import { recordSyncChange, setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { SupabaseTransport } from '../../src-main/engine/sync/transport.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startCutProxy, type CutProxy } from '../helpers/supabase-standin/cut-proxy.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset, makeWorld, type World } from '../fixtures/library/world.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the cloud file tests cannot run: .ci/run installs it with `apt-get install postgresql`.');
}

const EMAIL = 'files@example.com';
const PASSWORD = 'correct horse battery staple';
/** Small chunks so a resumable upload has several without writing 20 MB files. */
const CHUNK = 256 * 1024;

interface Desktop {
  readonly w: World;
  readonly transport: SupabaseTransport;
  readonly engine: SyncEngine;
}

describe.skipIf(!bin)('cloud mirror files: originals and thumbnails through supabase-js and tus to Storage on a real PostgreSQL', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let proxy: CutProxy;
  let userId: string;
  const desktops: Desktop[] = [];

  async function desktop(via: 'proxy' | 'direct' = 'direct'): Promise<Desktop> {
    const w = makeWorld();
    const transport = new SupabaseTransport({ url: via === 'proxy' ? proxy.url : standin.url, anonKey: standin.anonKey });
    await transport.signIn(EMAIL, PASSWORD);
    setSyncEnabled(w.db, true);
    const engine = new SyncEngine({
      db: w.db,
      transport,
      libraryRoot: w.layout.library,
      backoffMs: 50,
      maxBackoffMs: 200,
      intervalMs: 50,
      files: { chunkSize: CHUNK, retryDelays: [0, 50, 100] },
    });
    const d = { w, transport, engine };
    desktops.push(d);
    return d;
  }

  /** An asset as a finished job leaves it (PNG in a job bucket, a WebP thumbnail), recorded for sync. */
  type Bucket = NonNullable<NonNullable<Parameters<typeof addAsset>[1]>['bucket']>;
  async function made(d: Desktop, spec: { bytes?: Buffer; bucket?: Bucket; kind?: 'image' | 'video'; favorite?: boolean } = {}): Promise<string> {
    const bytes = spec.bytes ?? pilPng({ width: 16, height: 16, seed: Math.floor(Math.random() * 1e6) });
    const id = addAsset(d.w, { bytes, bucket: spec.bucket ?? 'sdxl_image_fast', kind: spec.kind ?? 'image', favorite: spec.favorite ?? false });
    const rel = relativeThumbPath(spec.bucket ?? 'sdxl_image_fast', id);
    mkdirSync(dirname(join(d.w.layout.library, rel)), { recursive: true });
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 40 } } })
      .webp()
      .toFile(join(d.w.layout.library, rel));
    d.w.db.run('UPDATE assets SET thumb_path = ? WHERE id = ?', rel, id);
    d.w.db.transaction(() => recordSyncChange(d.w.db, 'asset', id));
    return id;
  }

  const cloud = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const fileRow = (d: Desktop, id: string, part: string, dir = 'up') =>
    d.w.db.get<{ state: string; reason: string | null; upload_url: string | null }>('SELECT state, reason, upload_url FROM sync_files WHERE asset_id = ? AND part = ? AND dir = ?', id, part, dir);

  /** Syncs until a cycle fails no more (the back-off a running engine would do). */
  async function drain(d: Desktop, tries = 20): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await d.engine.syncNow();
        return;
      } catch (e) {
        if (i >= tries) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  beforeAll(async () => {
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(join(dir, f), 'utf8'));
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    proxy = await startCutProxy(standin.url);
    userId = await standin.addUser(EMAIL, PASSWORD);
  }, 120_000);

  afterAll(async () => {
    for (const d of desktops) {
      await d.engine.stop();
      await d.w.close();
    }
    await proxy?.close();
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
  });

  it('a picture made on A goes up with its thumbnail at content-hash paths; B shows the thumbnail at once and brings the original on open, checked', async () => {
    const a = await desktop();
    const b = await desktop();
    const bytes = pilPng({ width: 24, height: 24, seed: 11 });
    const id = await made(a, { bytes });
    const cycle = await a.engine.syncNow();
    expect(cycle.uploaded).toBe(2);

    const path = `${userId}/${sha(bytes)}.png`;
    const [row] = await cloud('select storage_path, thumbnail_path, bucket from public.images where id = $1', [id]);
    expect(row).toEqual({ storage_path: path, thumbnail_path: `${userId}/thumbs/${sha(bytes)}.png`, bucket: 'sdxl_image_fast' });
    const objects = await cloud(`select name, owner_id, metadata->>'mimetype' as mime from storage.objects where bucket_id = 'sdxl_image_fast' order by name`);
    expect(objects.map((o) => o.name)).toEqual(expect.arrayContaining([path, `${userId}/thumbs/${sha(bytes)}.png`]));
    expect(readFileSync(standin.storage.objectFile('sdxl_image_fast', path)!)).toEqual(bytes);
    const thumbInCloud = await sharp(readFileSync(standin.storage.objectFile('sdxl_image_fast', `${userId}/thumbs/${sha(bytes)}.png`)!)).metadata();
    expect(thumbInCloud.format).toBe('png');
    expect(filesStatus(a.w.db, null)).toMatchObject({ uploadsWaiting: 0, localOnlyCount: 0, failures: [] });

    await b.engine.syncNow();
    const local = b.w.db.get<{ thumb_path: string | null; file_path: string }>('SELECT thumb_path, file_path FROM assets WHERE id = ?', id)!;
    expect(local.thumb_path).toMatch(/\.png$/);
    expect((await sharp(join(b.w.layout.library, local.thumb_path!)).metadata()).width).toBe(8);
    // Originals come when opened (the default), not before.
    expect(existsSync(join(b.w.layout.library, local.file_path))).toBe(false);
    expect(b.w.db.get('SELECT 1 AS x FROM sync_remote_files WHERE asset_id = ?', id)).toBeDefined();

    await b.engine.files!.fetchOriginal(id);
    expect(readFileSync(join(b.w.layout.library, local.file_path))).toEqual(bytes);
    expect(b.w.db.get('SELECT 1 AS x FROM sync_remote_files WHERE asset_id = ?', id)).toBeUndefined();
    // B has it now, and does not send it again: the row already points at the object.
    const before = standin.requestCount('/storage/v1');
    await b.engine.syncNow();
    expect(standin.requestCount('/storage/v1')).toBe(before);
  });

  it('opening an original while a sync is bringing files down downloads it once, whole', async () => {
    const a = await desktop();
    const b = await desktop();
    const bytes = Buffer.concat([pilPng({ width: 8, height: 8, seed: 21 }), randomBytes(2 * 1024 * 1024)]);
    const id = await made(a, { bytes, bucket: 'sdxl_image_high' });
    await a.engine.syncNow();
    await b.engine.syncNow();
    // Slow enough that the two overlap: the viewer's request first, then a sync that finds the same row waiting.
    setMirrorSettings(b.w.db, { bandwidthLimit: 1024 * 1024 });
    const gets = () => standin.requests.get(`GET /storage/v1/object/authenticated/sdxl_image_high/${userId}/${sha(bytes)}.png`) ?? 0;
    const before = gets();
    const opened = b.engine.files!.fetchOriginal(id);
    await new Promise((r) => setTimeout(r, 200));
    const [, cycle] = await Promise.all([opened, b.engine.syncNow()]);
    expect(cycle.downloaded).toBe(1);
    expect(gets() - before).toBe(1);
    const file = b.w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', id)!.file_path;
    expect(readFileSync(join(b.w.layout.library, file))).toEqual(bytes);
    expect(readdirSync(dirname(join(b.w.layout.library, file))).filter((f) => f.includes('.part'))).toEqual([]);
  });

  it('a download that does not match the sha256 is not kept, and says so', async () => {
    const a = await desktop();
    const b = await desktop();
    const bytes = pilPng({ width: 20, height: 20, seed: 12 });
    const id = await made(a, { bytes });
    await a.engine.syncNow();
    // Someone with the service key changed the bytes behind the object.
    writeFileSync(standin.storage.objectFile('sdxl_image_fast', `${userId}/${sha(bytes)}.png`)!, pilPng({ width: 20, height: 20, seed: 99 }));
    await b.engine.syncNow();
    await expect(b.engine.files!.fetchOriginal(id)).rejects.toThrow(/does not match the asset \(sha256/);
    const file = b.w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', id)!.file_path;
    expect(existsSync(join(b.w.layout.library, file))).toBe(false);
    expect(readdirSync(dirname(join(b.w.layout.library, file))).filter((f) => f.includes('.part'))).toEqual([]);
    expect(b.w.db.get('SELECT 1 AS x FROM sync_remote_files WHERE asset_id = ?', id)).toBeDefined();
    // Put right again for the tests after this one.
    writeFileSync(standin.storage.objectFile('sdxl_image_fast', `${userId}/${sha(bytes)}.png`)!, bytes);
  });

  it('files over a bucket limit, the project limit or the user\'s video size stay local with the reason; the record still syncs', async () => {
    const a = await desktop();
    const big = Buffer.concat([pilPng({ width: 8, height: 8, seed: 13 }), randomBytes(5 * 1024 * 1024 + 10)]);
    const overBucket = await made(a, { bytes: big });
    const video = await made(a, { bytes: randomBytes(300 * 1024), bucket: 'video_fast', kind: 'video' });
    setMirrorSettings(a.w.db, { videoThumbOnlyOverBytes: 100 * 1024 });
    await a.engine.syncNow();
    expect(fileRow(a, overBucket, 'original')).toMatchObject({ state: 'local_only', reason: expect.stringMatching(/over the sdxl_image_fast bucket's 5\.0 MB limit/) });
    expect(fileRow(a, video, 'original')).toMatchObject({ state: 'local_only', reason: expect.stringMatching(/videos over 0\.1 MB mirror their thumbnail only/) });
    // The video's thumbnail went up (a PNG beside the MP4s), and both records are in the cloud.
    expect(fileRow(a, video, 'thumbnail')).toMatchObject({ state: 'done' });
    expect(await cloud('select storage_path, thumbnail_path is not null as thumb from public.videos where id = $1', [video])).toEqual([{ storage_path: null, thumb: true }]);
    expect(await cloud('select storage_path from public.images where id = $1', [overBucket])).toEqual([{ storage_path: null }]);
    const status = filesStatus(a.w.db, null);
    expect(status.localOnlyCount).toBe(2);
    expect(status.localOnly.map((l) => l.assetId).sort()).toEqual([overBucket, video].sort());

    // A bigger limit sends what it held back.
    setMirrorSettings(a.w.db, { videoThumbOnlyOverBytes: null });
    await a.engine.syncNow();
    expect(fileRow(a, video, 'original')).toMatchObject({ state: 'done' });

    // The server's own limit (the project's global one, smaller than the bucket's) is kept the same way.
    standin.storage.fileSizeLimit = 64 * 1024;
    const refused = await made(a, { bytes: Buffer.concat([pilPng({ width: 8, height: 8, seed: 14 }), randomBytes(100 * 1024)]) });
    try {
      await a.engine.syncNow();
    } finally {
      standin.storage.fileSizeLimit = 50 * 1024 * 1024;
    }
    expect(fileRow(a, refused, 'original')).toMatchObject({ state: 'local_only', reason: expect.stringMatching(/refused .* as too large/) });
  });

  it('an upload cut mid-chunk goes on from the server\'s offset; a pause keeps the upload URL and the next sync resumes it', async () => {
    const a = await desktop('proxy');
    const bytes = Buffer.concat([pilPng({ width: 8, height: 8, seed: 15 }), randomBytes(6 * CHUNK)]);
    const id = await made(a, { bytes, bucket: 'sdxl_image_high' });
    // The thumbnail goes first; the original's first chunk rides on the create (POST), and the first
    // PATCH (its second chunk) is cut half-way through.
    proxy.resetCounts();
    proxy.cutNextUpload(CHUNK / 2);
    await drain(a);
    expect(fileRow(a, id, 'original')).toMatchObject({ state: 'done' });
    const patches = proxy.patches.filter((p) => p.path.includes('/upload/resumable/'));
    expect(patches.some((p) => p.cut)).toBe(true);
    // PATCHes carry every chunk but the first; sent again: at most what the cut lost (half a chunk).
    expect(proxy.forwardedPatchBytes() - (bytes.length - CHUNK)).toBeLessThanOrEqual(CHUNK / 2);
    expect(readFileSync(standin.storage.objectFile('sdxl_image_high', `${userId}/${sha(bytes)}.png`)!)).toEqual(bytes);

    // A pause in the middle: the upload URL stays, the next sync goes on from the offset.
    const bytes2 = Buffer.concat([pilPng({ width: 8, height: 8, seed: 16 }), randomBytes(8 * CHUNK)]);
    const id2 = await made(a, { bytes: bytes2, bucket: 'sdxl_image_high' });
    setMirrorSettings(a.w.db, { bandwidthLimit: 4 * CHUNK }); // ~2 s for the file: time to pause it
    proxy.resetCounts();
    const run = a.engine.syncNow().catch(() => undefined);
    const end = Date.now() + 10_000;
    const speeds: number[] = [];
    while (!(fileRow(a, id2, 'original')?.upload_url && proxy.forwardedPatchBytes() >= 2 * CHUNK) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      const t = a.engine.files!.transfer;
      if (t?.assetId === id2 && t.bytes > CHUNK) speeds.push(t.bytesPerSecond);
    }
    // The limit holds within a chunk: what is shown is the pace sent, not a burst.
    expect(speeds.length).toBeGreaterThan(0);
    expect(Math.max(...speeds)).toBeLessThan(1.5 * 4 * CHUNK);
    a.engine.pause();
    await run;
    const saved = fileRow(a, id2, 'original')!;
    expect(saved.state).toBe('waiting');
    expect(saved.upload_url).toMatch(/\/storage\/v1\/upload\/resumable\//);
    const sentBefore = proxy.forwardedPatchBytes();
    expect(sentBefore).toBeLessThan(bytes2.length);
    setMirrorSettings(a.w.db, { bandwidthLimit: null });
    a.engine.resume();
    await drain(a);
    expect(fileRow(a, id2, 'original')).toMatchObject({ state: 'done' });
    // Across the pause, nothing but the chunk in flight was sent twice.
    expect(proxy.forwardedPatchBytes() - (bytes2.length - CHUNK)).toBeLessThanOrEqual(CHUNK);
    expect(readFileSync(standin.storage.objectFile('sdxl_image_high', `${userId}/${sha(bytes2)}.png`)!)).toEqual(bytes2);
  });

  it('a syncing process killed with SIGKILL in the middle of an upload: the next sync goes on from the server\'s offset, less than a chunk sent again', async () => {
    const a = await desktop('proxy');
    // A video of three 6 MB chunks (the child uses the real chunk size), sent at 4 MB/s so the kill lands mid-file.
    const bytes = Buffer.concat([pilPng({ width: 8, height: 8, seed: 19 }), randomBytes(3 * TUS_CHUNK - 100)]);
    const id = await made(a, { bytes, bucket: 'video_fast', kind: 'video' });
    setMirrorSettings(a.w.db, { bandwidthLimit: 4 * 1024 * 1024 });
    // Its thumbnail first, so the child has only the original to send.
    a.w.db.run('UPDATE assets SET thumb_path = NULL WHERE id = ?', id);
    proxy.resetCounts();
    const child = spawn(process.execPath, [join(ROOT, 'tests', 'helpers', 'soak', 'cloud-sync-child.ts'), a.w.dir, proxy.url, standin.anonKey, EMAIL], {
      env: { ...process.env, STUDIO_SYNC_PASSWORD: PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const end = Date.now() + 60_000;
    // Killed once the first PATCH (the second chunk) is half through.
    while (!(proxy.patches.length > 0 && proxy.patches[0]!.forwarded >= TUS_CHUNK / 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited, out).toBe('SIGKILL');
    const saved = fileRow(a, id, 'original')!;
    expect(saved.state).toBe('waiting');
    expect(saved.upload_url).toMatch(/\/storage\/v1\/upload\/resumable\//);
    const before = proxy.forwardedPatchBytes();
    expect(before).toBeLessThan(2 * TUS_CHUNK);

    setMirrorSettings(a.w.db, { bandwidthLimit: null });
    a.engine.files!.reset();
    const resumed = new SyncEngine({ db: a.w.db, transport: a.transport, libraryRoot: a.w.layout.library, backoffMs: 50, maxBackoffMs: 200 });
    for (let i = 0; ; i++) {
      try {
        await resumed.syncNow();
        break;
      } catch (e) {
        if (i > 20) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(fileRow(a, id, 'original')).toMatchObject({ state: 'done' });
    // The server kept what reached it before the kill; sent again: at most the part of the chunk in flight.
    const again = proxy.forwardedPatchBytes() - (bytes.length - TUS_CHUNK);
    expect(again).toBeLessThan(TUS_CHUNK);
    expect(readFileSync(standin.storage.objectFile('video_fast', `${userId}/${sha(bytes)}.mp4`)!)).toEqual(bytes);
    expect(standin.storage.openUploads()).toBe(0);
  }, 120_000);

  it('server errors and a dropped network lose nothing: the files wait and go up once it is back', async () => {
    const a = await desktop('proxy');
    const id = await made(a);
    standin.storage.failNext(2, 503);
    await drain(a);
    expect(fileRow(a, id, 'original')).toMatchObject({ state: 'done' });
    const id2 = await made(a);
    await proxy.down();
    await expect(a.engine.syncNow()).rejects.toThrow();
    expect(fileRow(a, id2, 'original')?.state ?? 'waiting').toBe('waiting');
    await proxy.up();
    await drain(a);
    expect(fileRow(a, id2, 'original')).toMatchObject({ state: 'done' });
  });

  it('the same bytes in two assets are one object; deleting one for good keeps it, deleting both removes it from the cloud', async () => {
    const a = await desktop();
    const b = await desktop();
    const bytes = pilPng({ width: 12, height: 12, seed: 17 });
    const one = await made(a, { bytes });
    const two = await made(a, { bytes });
    await a.engine.syncNow();
    expect(fileRow(a, two, 'original')).toMatchObject({ state: 'done' });
    const path = `${userId}/${sha(bytes)}.png`;
    const objects = async () => (await cloud(`select count(*)::int as n from storage.objects where bucket_id = 'sdxl_image_fast' and name = $1`, [path]))[0].n as number;
    expect(await objects()).toBe(1);
    await b.engine.syncNow();

    trashAssets(a.w.db, [one]);
    await emptyTrash(a.w.db, a.w.layout.library);
    await a.engine.syncNow();
    expect(await objects()).toBe(1);
    trashAssets(a.w.db, [two]);
    await emptyTrash(a.w.db, a.w.layout.library);
    await a.engine.syncNow();
    expect(await objects()).toBe(0);
    expect(standin.storage.objectFile('sdxl_image_fast', path)).toBeNull();
    // B follows: both rows gone there too.
    await b.engine.syncNow();
    expect(b.w.db.get('SELECT count(*) AS n FROM assets WHERE id IN (?, ?)', one, two)).toEqual({ n: 0 });
  });

  it('favourites only: other assets keep their record in the cloud but their files stay here', async () => {
    const a = await desktop();
    setMirrorSettings(a.w.db, { scope: 'favorites' });
    const plain = await made(a);
    const fav = await made(a, { favorite: true });
    await a.engine.syncNow();
    expect(fileRow(a, fav, 'original')).toMatchObject({ state: 'done' });
    expect(fileRow(a, plain, 'original')).toBeUndefined();
    expect(await cloud('select id, storage_path is not null as up from public.images where id = any($1) order by up', [[plain, fav]])).toEqual([
      { id: plain, up: false },
      { id: fav, up: true },
    ]);
    // Made a favourite later: it goes up on the next sync.
    updateAsset(a.w.db, plain, { favorite: true });
    await a.engine.syncNow();
    expect(fileRow(a, plain, 'original')).toMatchObject({ state: 'done' });
  });

  it('an imported picture (user_uploads) keeps both its original and thumbnail here, and the sync ends', async () => {
    const a = await desktop();
    const id = await made(a, { bucket: 'user_uploads' });
    const cycle = await a.engine.syncNow();
    expect(cycle.uploaded).toBe(0);
    expect(fileRow(a, id, 'original')).toMatchObject({ state: 'local_only', reason: expect.stringMatching(/files in "user_uploads" stay on this computer/) });
    expect(fileRow(a, id, 'thumbnail')).toMatchObject({ state: 'local_only' });
    expect(await cloud('select storage_path, thumbnail_path from public.images where id = $1', [id])).toEqual([{ storage_path: null, thumbnail_path: null }]);
  });

  it('the background loop waits while a job runs, and goes on when it ends; a sync the user asks for does not wait', async () => {
    let busy = true;
    const w = makeWorld();
    const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await transport.signIn(EMAIL, PASSWORD);
    setSyncEnabled(w.db, true);
    const engine = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library, intervalMs: 50, busy: () => busy });
    const d = { w, transport, engine };
    desktops.push(d);
    const id = await made(d);
    engine.start();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await cloud('select id from public.images where id = $1', [id])).toEqual([]);
    busy = false;
    const end = Date.now() + 10_000;
    while (fileRow(d, id, 'original')?.state !== 'done' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(fileRow(d, id, 'original')).toMatchObject({ state: 'done' });
    await engine.stop();
    busy = true;
    const id2 = await made(d);
    expect((await engine.syncNow()).uploaded).toBe(2);
    expect(fileRow(d, id2, 'original')).toMatchObject({ state: 'done' });

    // A job that starts while a background cycle is pushing: the cycle stops between batches.
    busy = false;
    const slow = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library, intervalMs: 60_000, batchSize: 1, busy: () => busy });
    for (let i = 0; i < 6; i++) await made(d);
    const pushes = () => standin.requests.get('POST /rest/v1/rpc/sync_push') ?? 0;
    const first = pushes();
    slow.start();
    const until = Date.now() + 10_000;
    while (pushes() === first && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    busy = true;
    await new Promise((r) => setTimeout(r, 300));
    const held = pushes();
    await new Promise((r) => setTimeout(r, 1200));
    expect(pushes()).toBe(held);
    expect(w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n).toBeGreaterThan(0);
    busy = false;
    const drained = Date.now() + 15_000;
    while (w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 50));
    expect(w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n).toBe(0);
    await slow.stop();
  });

  it('a queue of jobs that never ends still lets sync run after the longest wait, then waits again', async () => {
    const w = makeWorld();
    const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await transport.signIn(EMAIL, PASSWORD);
    setSyncEnabled(w.db, true);
    const engine = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library, intervalMs: 50, busy: () => true, maxYieldMs: 600, yieldWindowMs: 3000 });
    const d = { w, transport, engine };
    desktops.push(d);
    const id = await made(d);
    engine.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(fileRow(d, id, 'original')?.state ?? 'not planned').not.toBe('done');
    const end = Date.now() + 15_000;
    const outbox = () => w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n;
    while ((fileRow(d, id, 'original')?.state !== 'done' || outbox() > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(fileRow(d, id, 'original')).toMatchObject({ state: 'done' });
    expect(outbox()).toBe(0);
    await engine.stop();
  });

  it('another signed-in user cannot read or delete these files with their own valid token', async () => {
    const a = await desktop();
    const bytes = pilPng({ width: 10, height: 10, seed: 18 });
    await made(a, { bytes });
    await a.engine.syncNow();
    await standin.addUser('other@example.com', 'another long password');
    const other = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await other.signIn('other@example.com', 'another long password');
    const path = `${userId}/${sha(bytes)}.png`;
    const got = await other.client.storage.from('sdxl_image_fast').download(path);
    expect(got.error).not.toBeNull();
    await other.client.storage.from('sdxl_image_fast').remove([path]);
    expect(readFileSync(standin.storage.objectFile('sdxl_image_fast', path)!)).toEqual(bytes);
    const { data: inUse } = await other.client.rpc('sync_file_in_use', { bucket: 'sdxl_image_fast', path });
    expect(inUse).toBe(false); // they cannot even see that a row points at it
  });
});

