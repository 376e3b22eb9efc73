/**
 * The stand-in's /storage/v1 (tests/helpers/supabase-standin/storage.ts) driven by the UNMODIFIED
 * clients the desktop uses — @supabase/supabase-js's storage client and tus-js-client — against a
 * real PostgreSQL carrying the real migration, so the migration's storage policies decide who reads,
 * writes and deletes what. A cutting proxy (cut-proxy.ts) sits in front for the resumable uploads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import { Upload, type DetailedError } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startCutProxy, type CutProxy } from '../helpers/supabase-standin/cut-proxy.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error(
    'PostgreSQL is not installed, so the cloud storage tests cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).',
  );
}

const MB = 1024 * 1024;
const CHUNK = 6 * MB;
const PASSWORD = 'correct horse battery staple';
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

interface TusResult {
  url: string | null;
  error: DetailedError | null;
}

interface TusOptions {
  endpoint: string;
  data: Buffer;
  bucket: string;
  name: string;
  contentType: string;
  token: () => Promise<string>;
  retryDelays?: number[];
  onShouldRetry?: (err: DetailedError, attempt: number) => boolean;
  onChunkComplete?: (chunk: number, accepted: number) => void;
  /** Runs before each request's token is asked for, with the request's method. */
  beforeRequest?: (method: string) => Promise<void>;
  uploadUrl?: string;
}

/** One TUS upload as the desktop makes it: 6 MB chunks, x-upsert false, a token set on every request. */
function tusUpload(o: TusOptions): Promise<TusResult> {
  return new Promise((resolve) => {
    const up = new Upload(o.data, {
      endpoint: o.endpoint,
      uploadUrl: o.uploadUrl ?? null,
      chunkSize: CHUNK,
      retryDelays: o.retryDelays ?? [0, 100, 300],
      headers: { 'x-upsert': 'false' },
      metadata: { bucketName: o.bucket, objectName: o.name, contentType: o.contentType, cacheControl: '3600' },
      uploadDataDuringCreation: false,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: async (req) => {
        await o.beforeRequest?.(req.getMethod());
        req.setHeader('Authorization', `Bearer ${await o.token()}`);
      },
      ...(o.onShouldRetry ? { onShouldRetry: (err: DetailedError, attempt: number) => o.onShouldRetry!(err, attempt) } : {}),
      onChunkComplete: (chunk, accepted) => o.onChunkComplete?.(chunk, accepted),
      onSuccess: () => resolve({ url: up.url, error: null }),
      onError: (err) => resolve({ url: up.url, error: err as DetailedError }),
    });
    up.start();
  });
}

describe.skipIf(!bin)('cloud storage stand-in: supabase-js storage and tus-js-client against the real storage policies', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let proxy: CutProxy;
  let alice: SupabaseClient;
  let bob: SupabaseClient;
  let anon: SupabaseClient;
  let aliceId: string;
  let bobId: string;

  const client = () => createClient(standin.url, standin.anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } });
  const tokenOf = (c: SupabaseClient) => async () => (await c.auth.getSession()).data.session?.access_token ?? standin.anonKey;
  const rows = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
  const png = (n: number) => randomBytes(n);

  beforeAll(async () => {
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(join(dir, f), 'utf8'));
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    proxy = await startCutProxy(standin.url);
    aliceId = await standin.addUser('alice@example.com', PASSWORD);
    bobId = await standin.addUser('bob@example.com', PASSWORD);
    alice = client();
    bob = client();
    anon = client();
    expect((await alice.auth.signInWithPassword({ email: 'alice@example.com', password: PASSWORD })).error).toBeNull();
    expect((await bob.auth.signInWithPassword({ email: 'bob@example.com', password: PASSWORD })).error).toBeNull();
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
  });

  it('a user uploads, downloads, checks, lists and removes their own files; the row is theirs', async () => {
    const bytes = png(200_000);
    const path = `${aliceId}/${sha(bytes)}.png`;
    const up = await alice.storage.from('image_fast').upload(path, bytes, { contentType: 'image/png', upsert: false });
    expect(up.error).toBeNull();
    expect(up.data).toMatchObject({ path, fullPath: `image_fast/${path}` });

    const [row] = await rows('select owner, owner_id, metadata from storage.objects where bucket_id = $1 and name = $2', ['image_fast', path]);
    expect(row).toMatchObject({ owner: aliceId, owner_id: aliceId, metadata: { size: bytes.length, mimetype: 'image/png' } });

    const down = await alice.storage.from('image_fast').download(path);
    expect(down.error).toBeNull();
    expect(sha(Buffer.from(await down.data!.arrayBuffer()))).toBe(sha(bytes));

    // The same object by the raw routes: HEAD, and GET under /authenticated.
    const auth = { Authorization: `Bearer ${await tokenOf(alice)()}` };
    const head = await fetch(`${standin.url}/storage/v1/object/image_fast/${path}`, { method: 'HEAD', headers: auth });
    expect([head.status, head.headers.get('content-length'), head.headers.get('content-type')]).toEqual([200, String(bytes.length), 'image/png']);
    const viaAuth = await fetch(`${standin.url}/storage/v1/object/authenticated/image_fast/${path}`, { headers: auth });
    expect(sha(Buffer.from(await viaAuth.arrayBuffer()))).toBe(sha(bytes));
    const bobHead = await fetch(`${standin.url}/storage/v1/object/image_fast/${path}`, { method: 'HEAD', headers: { Authorization: `Bearer ${await tokenOf(bob)()}` } });
    expect(bobHead.status).toBe(400);

    const info = await alice.storage.from('image_fast').info(path);
    expect(info.error).toBeNull();
    expect(info.data).toMatchObject({ name: path, bucketId: 'image_fast', size: bytes.length, contentType: 'image/png' });
    expect((await alice.storage.from('image_fast').exists(path)).data).toBe(true);

    const listed = await alice.storage.from('image_fast').list(aliceId);
    expect(listed.error).toBeNull();
    expect(listed.data!.map((f) => f.name)).toContain(`${sha(bytes)}.png`);

    // A Blob goes as a multipart form, its type the part's type.
    const thumb = png(30_000);
    const thumbPath = `${aliceId}/thumbs/${sha(thumb)}.png`;
    expect((await alice.storage.from('image_fast').upload(thumbPath, new Blob([thumb], { type: 'image/png' }))).error).toBeNull();
    expect((await alice.storage.from('image_fast').info(thumbPath)).data).toMatchObject({ size: thumb.length, contentType: 'image/png' });

    // The same path again without upsert: already there.
    const again = await alice.storage.from('image_fast').upload(path, bytes, { contentType: 'image/png' });
    expect(again.error).toMatchObject({ status: 400, statusCode: '409', message: 'The resource already exists' });

    const removed = await alice.storage.from('image_fast').remove([path, thumbPath]);
    expect(removed.error).toBeNull();
    expect(removed.data!.map((r) => r.name).sort()).toEqual([path, thumbPath].sort());
    expect(standin.storage.objectFile('image_fast', path)).toBeNull();
    const gone = await alice.storage.from('image_fast').exists(path);
    expect(gone.data).toBe(false);
    expect(gone.error).toMatchObject({ statusCode: '404', message: 'Object not found' });
    expect(await rows('select 1 from storage.objects where name = any($1)', [[path, thumbPath]])).toHaveLength(0);
  });

  it("another signed-in user, and a signed-out one, can neither read, list, overwrite, delete nor upload into the owner's folder", async () => {
    const bytes = png(50_000);
    const path = `${aliceId}/${sha(bytes)}.png`;
    expect((await alice.storage.from('image_high').upload(path, bytes, { contentType: 'image/png' })).error).toBeNull();

    for (const [who, c] of [['bob', bob], ['anon', anon]] as const) {
      const from = c.storage.from('image_high');
      const down = await from.download(path);
      expect(down.error, who).toMatchObject({ status: 400, statusCode: '404', message: 'Object not found' });
      expect((await from.info(path)).error, who).toMatchObject({ statusCode: '404' });
      expect((await from.exists(path)).data, who).toBe(false);
      expect((await from.list(aliceId)).data, who).toEqual([]);

      const overwrite = await from.upload(path, png(10), { contentType: 'image/png', upsert: true });
      expect(overwrite.error, who).toMatchObject({ status: 400, statusCode: '403', message: 'new row violates row-level security policy' });
      const replace = await from.update(path, png(10), { contentType: 'image/png' });
      expect(replace.error, who).toMatchObject({ statusCode: '403' });
      const create = await from.upload(`${aliceId}/planted-by-${who}.png`, png(10), { contentType: 'image/png' });
      expect(create.error, who).toMatchObject({ statusCode: '403', message: 'new row violates row-level security policy' });

      const removed = await from.remove([path]);
      expect(removed.error, who).toBeNull();
      expect(removed.data, who).toEqual([]);

      const tus = await tusUpload({
        endpoint: `${standin.url}/storage/v1/upload/resumable`,
        data: png(1000),
        bucket: 'image_high',
        name: `${aliceId}/tus-by-${who}.png`,
        contentType: 'image/png',
        token: tokenOf(c),
        retryDelays: [],
      });
      expect(tus.error, who).not.toBeNull();
      expect(tus.error!.originalResponse?.getStatus(), who).toBe(403);
      expect(tus.error!.originalResponse?.getBody(), who).toBe('new row violates row-level security policy');
    }

    // The owner's file is untouched, and nothing was planted.
    const still = await alice.storage.from('image_high').download(path);
    expect(sha(Buffer.from(await still.data!.arrayBuffer()))).toBe(sha(bytes));
    expect(await rows('select name from storage.objects where bucket_id = $1 order by name', ['image_high'])).toEqual([{ name: path }]);

    // Bob's own folder works for Bob.
    expect((await bob.storage.from('image_high').upload(`${bobId}/own.png`, png(10), { contentType: 'image/png' })).error).toBeNull();
  });

  it("refuses a file over the bucket's or the project's limit (413) and a type the bucket does not take (415), before storing anything", async () => {
    const big = png(5 * MB + 1);
    const over = await alice.storage.from('image_fast').upload(`${aliceId}/big.png`, big, { contentType: 'image/png' });
    expect(over.error).toMatchObject({ status: 400, statusCode: '413', message: 'The object exceeded the maximum allowed size' });
    expect(await alice.storage.from('image_fast').upload(`${aliceId}/edge.png`, png(5 * MB), { contentType: 'image/png' })).toMatchObject({ error: null });

    const wrong = await alice.storage.from('image_fast').upload(`${aliceId}/clip.mp4`, png(100), { contentType: 'video/mp4' });
    expect(wrong.error).toMatchObject({ statusCode: '415', message: 'mime type video/mp4 is not supported' });

    // TUS: refused at creation from Upload-Length and the contentType metadata; no chunk is sent.
    proxy.resetCounts();
    const tusWrong = await tusUpload({
      endpoint: `${proxy.url}/storage/v1/upload/resumable`,
      data: png(1000),
      bucket: 'video_fast',
      name: `${aliceId}/clip.mov`,
      contentType: 'video/quicktime',
      token: tokenOf(alice),
      retryDelays: [],
    });
    expect(tusWrong.error?.originalResponse?.getStatus()).toBe(415);
    expect(tusWrong.error?.originalResponse?.getBody()).toBe('mime type video/quicktime is not supported');

    // video_high allows 200 MB, but the project (free plan) allows 50 MB per file.
    const tusBig = await tusUpload({
      endpoint: `${proxy.url}/storage/v1/upload/resumable`,
      data: Buffer.alloc(50 * MB + 1),
      bucket: 'video_high',
      name: `${aliceId}/long.mp4`,
      contentType: 'video/mp4',
      token: tokenOf(alice),
      retryDelays: [],
    });
    expect(tusBig.error?.originalResponse?.getStatus()).toBe(413);
    expect(tusBig.error?.message).toMatch(/response code: 413/);
    expect(proxy.patches).toHaveLength(0);
    expect(await rows("select name from storage.objects where name like '%big.png' or name like '%clip%' or name like '%long.mp4'")).toEqual([]);
  });

  it('a 15 MB TUS upload in 6 MB chunks, cut mid-chunk by the proxy, resumes from the server offset and the object has the same bytes', async () => {
    const data = png(15 * MB);
    const name = `${aliceId}/${sha(data)}.mp4`;
    proxy.resetCounts();
    const cutAfter = 2 * MB + 12345;
    let chunks = 0;
    const result = await tusUpload({
      endpoint: `${proxy.url}/storage/v1/upload/resumable`,
      data,
      bucket: 'video_fast',
      name,
      contentType: 'video/mp4',
      token: tokenOf(alice),
      onChunkComplete: () => {
        if (++chunks === 1) proxy.cutNextUpload(cutAfter); // the second chunk is cut
      },
    });
    expect(result.error).toBeNull();
    expect(result.url).toMatch(new RegExp(`^${proxy.url}/storage/v1/upload/resumable/[A-Za-z0-9_-]+$`));
    expect(Buffer.from(result.url!.split('/').pop()!, 'base64url').toString('utf8')).toMatch(new RegExp(`^video_fast/${name}/`));

    const patches = proxy.patches;
    expect(patches.map((p) => p.cut)).toEqual([false, true, false, false]);
    expect(patches[1]).toMatchObject({ offset: CHUNK, forwarded: cutAfter });
    // The resume starts where the server says its bytes stopped: inside the cut chunk, not at its start
    // (what was in flight when the connection went is lost, so at most the cut part goes again).
    const resumedAt = patches[2]!.offset;
    expect(resumedAt).toBeGreaterThan(CHUNK);
    expect(resumedAt).toBeLessThanOrEqual(CHUNK + cutAfter);
    const resent = proxy.forwardedPatchBytes() - data.length;
    expect(resent).toBe(CHUNK + cutAfter - resumedAt);
    expect(resent).toBeLessThan(cutAfter);

    const down = await alice.storage.from('video_fast').download(name);
    expect(down.error).toBeNull();
    expect(sha(Buffer.from(await down.data!.arrayBuffer()))).toBe(sha(data));
    const [row] = await rows('select owner, metadata from storage.objects where bucket_id = $1 and name = $2', ['video_fast', name]);
    expect(row).toMatchObject({ owner: aliceId, metadata: { size: data.length, mimetype: 'video/mp4' } });
    expect(standin.storage.openUploads()).toBe(0);

    // Creating it again: the object exists (409), which the client must not take for a passing fault.
    const twice = await tusUpload({
      endpoint: `${proxy.url}/storage/v1/upload/resumable`,
      data,
      bucket: 'video_fast',
      name,
      contentType: 'video/mp4',
      token: tokenOf(alice),
      onShouldRetry: () => false,
    });
    expect(twice.error?.originalResponse?.getStatus()).toBe(409);
    expect(twice.error?.originalResponse?.getBody()).toBe('The resource already exists');
  }, 60_000);

  it('a server error on a chunk, then a dropped network: the client asks where to resume and finishes', async () => {
    for (const trouble of ['503 on a chunk', 'network down'] as const) {
      const data = png(7 * MB);
      const name = `${aliceId}/${sha(data)}.mp4`;
      proxy.resetCounts();
      let chunks = 0;
      const result = await tusUpload({
        endpoint: `${proxy.url}/storage/v1/upload/resumable`,
        data,
        bucket: 'video_fast',
        name,
        contentType: 'video/mp4',
        token: tokenOf(alice),
        retryDelays: [50, 200, 400, 800, 1600],
        onChunkComplete: () => {
          if (++chunks !== 1) return;
          if (trouble === '503 on a chunk') standin.storage.failNext(1, 503);
          else void proxy.down().then(() => setTimeout(() => void proxy.up(), 300));
        },
      });
      expect(result.error, trouble).toBeNull();
      // One upload: the second chunk went again from the server's offset after one HEAD, never from 0.
      expect(proxy.patches.map((p) => p.offset), trouble).toEqual(trouble === '503 on a chunk' ? [0, CHUNK, CHUNK] : [0, CHUNK]);
      expect(standin.requests.get(`HEAD ${new URL(result.url!).pathname}`), trouble).toBe(1);
      const down = await alice.storage.from('video_fast').download(name);
      expect(sha(Buffer.from(await down.data!.arrayBuffer())), trouble).toBe(sha(data));
    }

    standin.storage.failNext(1, 429);
    const busy = await alice.storage.from('image_fast').upload(`${aliceId}/busy.png`, png(10), { contentType: 'image/png' });
    expect(busy.error).toMatchObject({ status: 429 });
    expect(await rows("select 1 from storage.objects where name like '%busy.png'")).toHaveLength(0);
  }, 60_000);

  it('an expired token is refused on a chunk (and on a download) with a sentence saying so; a fresh one from onBeforeRequest goes on', async () => {
    // A second front on the same database whose tokens live 2 s.
    const short = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user }, tokenSeconds: 2 });
    try {
      const email = 'carol@example.com';
      const carolId = await short.addUser(email, PASSWORD);
      const carol = createClient(short.url, short.anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } });
      expect((await carol.auth.signInWithPassword({ email, password: PASSWORD })).error).toBeNull();
      const stale = (await carol.auth.getSession()).data.session!;

      const data = png(7 * MB);
      const name = `${carolId}/${sha(data)}.mp4`;
      let sendStale = false;
      let patched = 0;
      const refused: string[] = [];
      const result = await tusUpload({
        endpoint: `${short.url}/storage/v1/upload/resumable`,
        data,
        bucket: 'video_fast',
        name,
        contentType: 'video/mp4',
        beforeRequest: async (method) => {
          // The first PATCH goes out with the sign-in's token once it has expired.
          if (method === 'PATCH' && patched++ === 0) {
            await new Promise((r) => setTimeout(r, stale.expires_at! * 1000 - Date.now() + 200));
            sendStale = true;
          }
        },
        // A fresh token for every request: supabase-js refreshes an expired session in getSession().
        token: async () => {
          if (sendStale) {
            sendStale = false;
            return stale.access_token;
          }
          return (await carol.auth.getSession()).data.session!.access_token;
        },
        onShouldRetry: (err) => {
          const res = err.originalResponse;
          if (res?.getStatus() === 400 && (JSON.parse(res.getBody()) as { message?: string }).message === '"exp" claim timestamp check failed') {
            refused.push(res.getBody());
            return true;
          }
          return false;
        },
        retryDelays: [0, 0],
      });
      expect(result.error).toBeNull();
      expect(refused).toHaveLength(1);
      expect(JSON.parse(refused[0]!)).toEqual({ statusCode: '403', code: 'AccessDenied', error: 'Unauthorized', message: '"exp" claim timestamp check failed' });
      expect((await carol.auth.getSession()).data.session!.access_token).not.toBe(stale.access_token);
      const down = await carol.storage.from('video_fast').download(name);
      expect(sha(Buffer.from(await down.data!.arrayBuffer()))).toBe(sha(data));

      // The REST side says the same to a client still holding the expired token.
      const holder = createClient(short.url, short.anonKey, {
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
        global: { headers: { Authorization: `Bearer ${stale.access_token}` } },
      });
      const late = await holder.storage.from('video_fast').download(name);
      expect(late.error).toMatchObject({ status: 400, statusCode: '403', message: '"exp" claim timestamp check failed' });
    } finally {
      await short.close();
    }
  }, 60_000);
});
