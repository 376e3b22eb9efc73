/**
 * The two-desktop soak of the cloud mirror (tests/helpers/soak/cloud.ts says what it does and what
 * it compares): desktop A and desktop B signed in as one user, a seeded random schedule of library
 * edits on both (finished jobs' pictures among them, whose originals the files mirror sends), sync cycles, the server stopped and started, pushes applied but never answered,
 * 500/503/429 answers, A's clock minutes ahead, and kill -9 of a process syncing B's data folder;
 * then drained, and A, B and PostgreSQL compared field by field against the last write per field by
 * clock order. The seed is printed; SOAK_SEED=<n> replays a run, SOAK_STEPS and SOAK_KILLS make it
 * longer (`npm run bench -- sync-soak` runs a long one).
 *
 * Then: another signed-in user tries every RPC the stand-in serves on the first user's rows, with
 * their own valid token.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../src-main/engine/library/import.ts';
import { moveToProject, tagAssets } from '../../src-main/engine/library/organise.ts';
import { createProject } from '../../src-main/engine/library/projects.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { elementId } from '../../src-main/engine/sync/tables.ts';
import { SupabaseTransport } from '../../src-main/engine/sync/transport.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { runCloudSoak } from '../helpers/soak/cloud.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { makeWorld, type World } from '../fixtures/library/world.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the cloud soak cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).');
}

const SEED = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : Math.floor(Math.random() * 2 ** 31);
const STEPS = Number(process.env.SOAK_STEPS ?? 600);
const KILLS = Number(process.env.SOAK_KILLS ?? 10);
const EMAIL = 'soak@example.com';
const PASSWORD = 'soak password';

describe.skipIf(!bin)('cloud soak: two desktops, randomized edits, disconnects, server errors, clock skew and kill -9, then identical', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let userId: string;
  const worlds: World[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'cloud-soak-test-'));
  const cloud = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as T[];

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
    for (const w of worlds) await w.close();
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('converges: A, B and PostgreSQL identical, every winning edit kept, every op applied once, nothing twice', async () => {
    console.log(`cloud soak seed ${SEED} (replay: SOAK_SEED=${SEED} npx vitest run tests/integration/cloud-soak.test.ts)`);
    const report = await runCloudSoak({ seed: SEED, steps: STEPS, kills: KILLS, standin, db, email: EMAIL, password: PASSWORD, userId });
    const ctx = `seed ${SEED}`;
    console.log(`cloud soak ${ctx}: ${JSON.stringify(report.counts)}; kills: ${JSON.stringify(report.kills)}; ${report.ops} ops, ${report.assets} assets, ${report.files} originals in Storage; drained in ${report.drainRounds} rounds`);
    expect(report.failures, ctx).toEqual([]);
    // The schedule really did what it says (the seed decides how often; at this length every seed does).
    expect(report.kills.filter((k) => k.outcome === 'killed').length, `${ctx}: ${JSON.stringify(report.kills)}`).toBeGreaterThan(0);
    expect((report.counts['sync A cut'] ?? 0) + (report.counts['sync B cut'] ?? 0), ctx).toBeGreaterThan(0);
    expect(report.skewMs, ctx).toBeGreaterThanOrEqual(120_000);
    expect(report.assets, ctx).toBeGreaterThan(3);
    expect(report.files, ctx).toBeGreaterThan(0);
  }, 300_000);

  it("a signed-in user can neither read nor write another user's rows through any endpoint, with their own valid token", async () => {
    // The victim: a picture with a tag in a project, pushed through the real client.
    const victimEmail = 'victim@example.com';
    const victimId = await standin.addUser(victimEmail, PASSWORD);
    const w = makeWorld();
    worlds.push(w);
    const vt = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await vt.signIn(victimEmail, PASSWORD);
    setSyncEnabled(w.db, true);
    const dir = join(scratch, 'victim');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'private.png'), pilPng({ width: 8, height: 8, seed: 77, text: [['parameters', 'a private picture\nSteps: 4, Seed: 77, Size: 8x8']] }));
    const [imported] = (await importFolder(w.db, w.layout.library, dir)).imported;
    const project = createProject(w.db, { title: 'Private project' });
    moveToProject(w.db, [imported!.id], project.id);
    tagAssets(w.db, [imported!.id], ['secret']);
    const victimEngine = new SyncEngine({ db: w.db, transport: vt });
    expect((await victimEngine.syncNow()).pushed).toBeGreaterThanOrEqual(3);
    const assetId = imported!.id;
    const tagRowId = elementId(assetId, 'secret');
    const victimOps = (await cloud<{ op_id: string }>('select op_id::text from public.applied_ops where user_id = $1', [victimId])).map((r) => r.op_id);
    expect(victimOps.length).toBeGreaterThan(0);
    const snapshot = async () =>
      cloud(
        `select 'images' as t, to_jsonb(i) - 'server_seq' as j from public.images i where user_id = $1
         union all select 'projects', to_jsonb(p) - 'server_seq' from public.projects p where user_id = $1
         union all select 'asset_tags', to_jsonb(a) - 'server_seq' from public.asset_tags a where user_id = $1 order by 1, 2`,
        [victimId],
      );
    const before = await snapshot();
    const victimSeq = (
      await cloud<{ s: string }>(
        `select greatest((select max(server_seq) from public.images where user_id = $1), (select max(server_seq) from public.projects where user_id = $1),
           (select max(server_seq) from public.asset_tags where user_id = $1))::text as s`,
        [victimId],
      )
    )[0]!.s;

    // The other user, signed in with their own valid token, through the same supabase-js client.
    const otherEmail = 'mallory@example.com';
    const otherId = await standin.addUser(otherEmail, PASSWORD);
    const other = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await other.signIn(otherEmail, PASSWORD);

    // sync_pull from zero (a full resync) returns none of the victim's rows, nor the soak user's.
    const pulled = await other.pull(0, 1000);
    expect(pulled).toEqual([]);

    // sync_push on the victim's row ids: every op refused, nothing changed, nothing new for either.
    const hlc = `${String(Date.now()).padStart(15, '0')}:000000:mallory`;
    const ops = [
      { op_id: randomUUID(), table: 'images', id: assetId, hlc, set: { favorite: true, title: 'taken over' } },
      { op_id: randomUUID(), table: 'images', id: assetId, hlc, set: { deleted_at: new Date().toISOString() } },
      { op_id: randomUUID(), table: 'projects', id: project.id, hlc, set: { title: 'taken over' } },
      { op_id: randomUUID(), table: 'asset_tags', id: tagRowId, hlc, set: { deleted_at: new Date().toISOString() } },
      // A row of its own hung on the victim's asset and project, or claiming the victim as owner.
      { op_id: randomUUID(), table: 'asset_tags', id: elementId(assetId, 'planted'), hlc, set: { asset_kind: 'image', asset_id: assetId, tag: 'planted' } },
      { op_id: randomUUID(), table: 'projects', id: randomUUID(), hlc, set: { title: 'forged owner', user_id: victimId } },
      // Replaying one of the victim's op ids neither applies it again nor reveals it was applied.
      { op_id: victimOps[0]!, table: 'projects', id: randomUUID(), hlc, set: { title: 'replayed op id' } },
    ];
    const answer = await other.push(ops);
    const byOp = new Map(answer.results.map((r) => [r.op_id, r]));
    // Changing, deleting or untagging the victim's rows, and forging an owner, are refused.
    for (const op of [...ops.slice(0, 4), ops[5]!]) expect(byOp.get(op.op_id), JSON.stringify(op)).toMatchObject({ status: 'rejected', reason: expect.any(String) });
    // The planted tag row and the replayed op id are at most the other user's own (see the known
    // problem below); whatever they did, none of the victim's rows changed.
    expect(await snapshot()).toEqual(before);
    // Nothing the other user did reaches the victim's pull, and the victim's view is unchanged.
    expect(await vt.pull(Number(victimSeq), 1000)).toEqual([]);
    const again = await new SyncEngine({ db: w.db, transport: vt }).syncNow();
    expect(again.applied).toBe(0);
    // The other user still sees only their own rows (the replayed op id, if applied, made their own project).
    const mine = await other.pull(0, 1000);
    for (const r of mine) expect(r.data.user_id).toBe(otherId);
    expect(mine.map((r) => r.entity_id)).not.toContain(assetId);

    // No other door: the stand-in serves only /auth/v1/token, /auth/v1/logout and the RPCs
    // sync_push, sync_pull (and the storage helpers another suite covers); PostgREST's table paths
    // (GET/POST/PATCH/DELETE /rest/v1/<table>) and every other function are not served, so the RPCs
    // above are the whole surface tried here. Supabase itself serves the table paths, under the same
    // RLS policies, which cloud-rls.test.ts tries table by table, operation by operation.
    const session = (await other.client.auth.getSession()).data.session!;
    const headers = { apikey: standin.anonKey, authorization: `Bearer ${session.access_token}`, 'content-type': 'application/json' };
    for (const [method, path] of [
      ['GET', '/rest/v1/images?select=*'],
      ['PATCH', `/rest/v1/images?id=eq.${assetId}`],
      ['DELETE', `/rest/v1/projects?id=eq.${project.id}`],
      ['POST', '/rest/v1/rpc/sync_apply'],
    ] as const) {
      const res = await fetch(`${standin.url}${path}`, { method, headers, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // A token the server did not sign, and the anon key used as a user token, are refused outright.
    const forged = `${session.access_token.split('.').slice(0, 2).join('.')}.${Buffer.from('not the signature').toString('base64url')}`;
    for (const bearer of [forged, standin.anonKey]) {
      const res = await fetch(`${standin.url}/rest/v1/rpc/sync_pull`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${bearer}` }, body: JSON.stringify({ since: 0 }) });
      expect(res.status).toBeGreaterThanOrEqual(401);
      expect(res.status).toBeLessThan(404);
    }
    expect(await snapshot()).toEqual(before);
  });

  // KNOWN PROBLEM (reported, not fixed here: the fix belongs in supabase/migrations). A tag row's id
  // is sync_element_id(asset_id, lower(tag)) and the primary key is that id alone, with no owner in
  // it and no reference from asset_id to the owner's asset. So another user who knows an asset's id
  // can push a tag row for it first (their own row, invisible to the owner), and from then on the
  // owner's own push of that tag is refused: "belongs to a row you cannot change". `.fails` keeps
  // this honest: the test fails today as it should; when the migration keys element rows by owner
  // (or checks asset_id against the caller's images/videos) it passes and vitest says to drop `.fails`.
  it("another user who knows an asset's id cannot stop its owner from tagging it", async () => {
    const owner = await standin.addUser('owner@example.com', PASSWORD);
    await standin.addUser('squatter@example.com', PASSWORD);
    const ownerT = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await ownerT.signIn('owner@example.com', PASSWORD);
    const squatter = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
    await squatter.signIn('squatter@example.com', PASSWORD);
    const assetId = randomUUID();
    const hlc = () => `${String(Date.now()).padStart(15, '0')}:000000:owner`;
    const image = { bucket: 'image_fast', mime: 'image/png', width: 8, height: 8, file_size: 100, sha256: 'a'.repeat(64), favorite: false, rating: 0, created_at: new Date().toISOString() };
    const made = await ownerT.push([{ op_id: randomUUID(), table: 'images', id: assetId, hlc: hlc(), set: image }]);
    expect(made.results[0], JSON.stringify(made)).toMatchObject({ status: 'applied' });
    const tagId = elementId(assetId, 'sunset');
    await squatter.push([{ op_id: randomUUID(), table: 'asset_tags', id: tagId, hlc: hlc(), set: { asset_kind: 'image', asset_id: assetId, tag: 'sunset' } }]);
    const tagged = await ownerT.push([{ op_id: randomUUID(), table: 'asset_tags', id: tagId, hlc: hlc(), set: { asset_kind: 'image', asset_id: assetId, tag: 'sunset' } }]);
    expect(tagged.results[0], JSON.stringify(tagged)).toMatchObject({ status: 'applied' });
    expect(await cloud('select user_id from public.asset_tags where id = $1', [tagId])).toEqual([{ user_id: owner }]);
  });
});
