/**
 * The two-desktop soak of the cloud mirror. Desktop A and desktop B (two data folders, two studio
 * databases) are signed in as one user against ONE real PostgreSQL carrying the real migration,
 * through the unmodified supabase-js and the loopback stand-in for Supabase's HTTP front
 * (tests/helpers/supabase-standin). A seeded random schedule (the seed is printed; SOAK_SEED=<n>
 * replays it, SOAK_STEPS and SOAK_KILLS make it longer) interleaves:
 *   - library edits on both sides through the library's own write paths: pictures imported, tags
 *     added and removed (two spellings of one tag among them), favourite, rating and title set,
 *     projects made, renamed and deleted, assets moved between projects, trashed, restored and
 *     deleted for good;
 *   - sync cycles on either side;
 *   - the server stopped for a while and started again, pushes it applies but never answers
 *     (`dropResponses`), and RPCs answered 500, 503 or 429 (`failNext`);
 *   - desktop A's clock minutes ahead for most of the run, then put right (its clocks must still
 *     grow);
 *   - `kill -9` of a process syncing desktop B's data folder (tests/helpers/soak/cloud-sync-child.ts,
 *     small push batches and pull pages) the moment its n-th push or pull reaches the server, a few
 *     milliseconds either side of the server's commit.
 * Then the faults stop, both drain (sync until both outboxes are empty and a round moves nothing),
 * and desktop A, desktop B and PostgreSQL are compared field by field.
 *
 * The oracle: every change the library records becomes one outbox op with one hybrid logical clock
 * (read right after each edit, before any sync can take it). For every (table, row, field) the op
 * with the greatest clock must be what PostgreSQL holds — value AND clock — so no edit that should
 * win was lost, whatever was cut or killed; every op id must be in the server's applied_ops (each
 * applied once, none refused); and both desktops must show exactly PostgreSQL's live rows, with
 * every synced field, the same tags and projects, and nothing extra or twice.
 *
 * A second test signs in as another user and tries every RPC the stand-in serves on the first
 * user's rows with its own valid token.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../src-main/engine/library/import.ts';
import { bulkUpdate, moveToProject, tagAssets, untagAssets, updateAsset } from '../../src-main/engine/library/organise.ts';
import { createProject, deleteProject, updateProject } from '../../src-main/engine/library/projects.ts';
import { emptyTrash, restoreAssets, trashAssets } from '../../src-main/engine/library/trash.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { cloudFieldsOf, pendingCount, setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { TABLES, elementId } from '../../src-main/engine/sync/tables.ts';
import type { TableSpec } from '../../src-main/engine/sync/tables.ts';
import { SupabaseTransport, TransportError } from '../../src-main/engine/sync/transport.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { makeWorld, type World } from '../fixtures/library/world.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHILD = join(ROOT, 'tests', 'helpers', 'soak', 'cloud-sync-child.ts');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the cloud soak cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).');
}

const SEED = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : Math.floor(Math.random() * 2 ** 31);
const STEPS = Number(process.env.SOAK_STEPS ?? 400);
const KILLS = Number(process.env.SOAK_KILLS ?? 8);
const EMAIL = 'soak@example.com';
const PASSWORD = 'soak password';
/** Tag names, two spellings of one among them (tags are one per lower-cased name). */
const TAG_NAMES = ['sea', 'Dusk', 'dusk', 'keeper', 'draft', 'B&W', 'portrait'];

/** mulberry32: the whole schedule follows from the seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Desktop {
  readonly name: 'A' | 'B';
  readonly w: World;
  readonly transport: SupabaseTransport;
  readonly engine: SyncEngine;
  /** How far this desktop's clock is ahead (ms). */
  skew: number;
}

interface Write {
  readonly hlc: string;
  readonly value: unknown;
}

const realNow = Date.now.bind(Date);

/** Runs fn as desktop d: with its clock (Date.now) skewed as d's is. */
async function as<T>(d: Desktop, fn: () => T | Promise<T>): Promise<T> {
  if (d.skew === 0) return await fn();
  Date.now = () => realNow() + d.skew;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

type Kind = 'text' | 'number' | 'bool' | 'json' | 'time';
const kindOf = (spec: TableSpec, col: string): Kind | 'deleted' => (col === 'deleted_at' ? 'deleted' : (spec.fields.find((f) => f.col === col)?.kind ?? 'text'));

/** JSON text with object keys sorted (jsonb keeps its own key order). */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** A field's value in one comparable form, whichever side it came from. */
function norm(kind: Kind | 'deleted', v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'time':
      return Date.parse(String(v));
    case 'deleted':
      return true; // deleted or not; when is not compared
    case 'number':
      return Number(v);
    case 'bool':
      return v === true || v === 1;
    default:
      return v;
  }
}

describe.skipIf(!bin)('cloud soak: two desktops, randomized edits, disconnects, server errors, clock skew and kill -9, then identical', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let userId: string;
  const desktops: Desktop[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'cloud-soak-'));
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
    Date.now = realNow;
    for (const d of desktops) {
      await d.engine.stop();
      await d.w.close();
    }
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('converges: A, B and PostgreSQL identical, every winning edit kept, every op applied once, nothing twice', async () => {
    console.log(`cloud soak seed ${SEED} (replay: SOAK_SEED=${SEED} npx vitest run tests/integration/cloud-soak.test.ts)`);
    const rand = rng(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    const pickOf = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[int(xs.length)] : undefined);
    const ctx = `seed ${SEED}`;

    for (const name of ['A', 'B'] as const) {
      const w = makeWorld();
      const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
      await transport.signIn(EMAIL, PASSWORD);
      setSyncEnabled(w.db, true);
      const engine = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library, batchSize: 5, pullLimit: 7 });
      desktops.push({ name, w, transport, engine, skew: 0 });
    }
    const [A, B] = desktops as [Desktop, Desktop];
    A.skew = (2 + int(9)) * 60_000; // 2 to 10 minutes ahead
    const skewUntil = Math.floor(STEPS * 0.6);

    // The oracle: the last write per (table, row, field) by clock order, from every op ever recorded.
    const oracle = new Map<string, Write>();
    const opIds = new Set<string>();
    const capture = (d: Desktop) => {
      const rows = d.w.db.all<{ op_id: string; tbl: string; row_id: string; patch: string; hlc: string }>(
        'SELECT op_id, tbl, row_id, patch, hlc FROM sync_outbox ORDER BY seq',
      );
      for (const r of rows) {
        if (opIds.has(r.op_id)) continue;
        opIds.add(r.op_id);
        for (const [col, value] of Object.entries(JSON.parse(r.patch) as Record<string, unknown>)) {
          const key = `${r.tbl}/${r.row_id}/${col}`;
          const cur = oracle.get(key);
          if (!cur || r.hlc > cur.hlc) oracle.set(key, { hlc: r.hlc, value });
        }
      }
    };

    let pngs = 0;
    const importPng = async (d: Desktop) => {
      const dir = join(scratch, `in-${pngs++}`);
      mkdirSync(dir, { recursive: true });
      const seed = 1000 + pngs;
      writeFileSync(
        join(dir, `shot-${pngs}.png`),
        pilPng({ width: 8, height: 8, seed, text: [['parameters', `soak picture ${pngs} from ${d.name}\nSteps: 4, Sampler: Euler, CFG scale: 2, Seed: ${seed}, Size: 8x8`]] }),
      );
      const report = await importFolder(d.w.db, d.w.layout.library, dir);
      expect(report.imported, ctx).toHaveLength(1);
    };
    const live = (d: Desktop, where = '') =>
      d.w.db.all<{ id: string }>(`SELECT id FROM assets WHERE purge_started_at IS NULL ${where} ORDER BY seq`).map((r) => r.id);
    const projects = (d: Desktop) => d.w.db.all<{ id: string }>('SELECT id FROM projects ORDER BY created_at, id').map((r) => r.id);

    const counts: Record<string, number> = {};
    const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);

    /** One library edit on d, chosen at random; records what the library wrote to the outbox. */
    const edit = async (d: Desktop, step: number) => {
      const ids = live(d);
      const roll = ids.length < 3 ? 0 : int(100);
      await as(d, async () => {
        if (roll < 12) {
          await importPng(d);
          count('import');
        } else if (roll < 27) {
          tagAssets(d.w.db, [pickOf(ids)!], [pickOf(TAG_NAMES)!]);
          count('tag');
        } else if (roll < 35) {
          const tagged = d.w.db.all<{ asset_id: string; name: string }>('SELECT at.asset_id, t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id');
          const p = pickOf(tagged);
          if (p) untagAssets(d.w.db, [p.asset_id], [p.name]);
          count('untag');
        } else if (roll < 45) {
          updateAsset(d.w.db, pickOf(ids)!, { favorite: rand() < 0.5 });
          count('favourite');
        } else if (roll < 52) {
          bulkUpdate(d.w.db, [pickOf(ids)!, pickOf(ids)!], { rating: int(6) });
          count('rating');
        } else if (roll < 60) {
          updateAsset(d.w.db, pickOf(ids)!, { title: rand() < 0.2 ? null : `${d.name} title ${step}` });
          count('title');
        } else if (roll < 64) {
          createProject(d.w.db, { title: `${d.name} project ${step}` });
          count('project made');
        } else if (roll < 67) {
          const p = pickOf(projects(d));
          if (p) updateProject(d.w.db, p, { title: `${d.name} renamed ${step}`, description: rand() < 0.5 ? null : `notes ${step}` });
          count('project renamed');
        } else if (roll < 68) {
          const p = pickOf(projects(d));
          if (p) deleteProject(d.w.db, p);
          count('project deleted');
        } else if (roll < 78) {
          const target = rand() < 0.2 ? null : (pickOf(projects(d)) ?? null);
          moveToProject(d.w.db, [pickOf(ids)!, pickOf(ids)!], target);
          count('move');
        } else if (roll < 88) {
          trashAssets(d.w.db, [pickOf(ids)!]);
          count('trash');
        } else if (roll < 95) {
          const trashed = live(d, 'AND trashed_at IS NOT NULL');
          if (trashed.length) restoreAssets(d.w.db, [pickOf(trashed)!]);
          count('restore');
        } else {
          const id = pickOf(ids)!;
          trashAssets(d.w.db, [id]);
          const r = await emptyTrash(d.w.db, d.w.layout.library, { ids: [id] });
          expect(r.deleted, ctx).toBe(1);
          count('delete for good');
        }
      });
      capture(d);
    };

    /** A sync cycle that may meet a fault: only network and server trouble (TransportError) may stop it. */
    const sync = async (d: Desktop) => {
      try {
        await as(d, () => d.engine.syncNow());
        count(`sync ${d.name} ok`);
      } catch (e) {
        if (!(e instanceof TransportError)) throw new Error(`${ctx}: a sync on ${d.name} failed with something other than a network or server fault: ${(e as Error).stack}`);
        count(`sync ${d.name} cut`);
      }
    };

    const kills: { moment: string; outcome: string }[] = [];
    /** Spawns a process syncing B's data folder and SIGKILLs it as its n-th push or pull reaches the server. */
    const killRound = async () => {
      // It must be able to sign in and reach the server: faults still pending are called off.
      await standin.start();
      standin.dropResponses(0);
      standin.failNext(0, 503);
      const moment = pickOf(['push', 'push', 'pull'] as const)!;
      const key = `POST /rest/v1/rpc/sync_${moment}`;
      const before = standin.requests.get(key) ?? 0;
      const nth = 1 + int(2);
      const delay = int(25);
      const child = spawn(process.execPath, [CHILD, B.w.dir, standin.url, standin.anonKey, EMAIL], {
        env: { ...process.env, STUDIO_SYNC_PASSWORD: PASSWORD },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      let done: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      void exited.then((x) => (done = x));
      const deadline = realNow() + 60_000;
      while (!done && (standin.requests.get(key) ?? 0) - before < nth) {
        if (realNow() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`${ctx}: the syncing child never reached its ${moment}: ${out}`);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      if (!done) {
        await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGKILL');
      }
      const end = await exited;
      if (end.signal === 'SIGKILL') {
        kills.push({ moment: `${moment} #${nth} +${delay} ms`, outcome: 'killed' });
      } else {
        // It finished (or met an injected fault) before the kill: only a network or server fault may stop it.
        if (end.code !== 0) expect(out, `${ctx}: the syncing child failed: ${out}`).toMatch(/could not (send changes to|fetch changes from) the cloud|could not reach Supabase Auth/);
        kills.push({ moment: `${moment} #${nth}`, outcome: end.code === 0 ? 'finished first' : 'stopped by a fault first' });
      }
    };

    // Both start from a few shared pictures.
    for (let i = 0; i < 3; i++) await edit(A, -1);
    await sync(A);
    await sync(B);

    const killAt = new Set(Array.from({ length: KILLS }, (_, i) => Math.floor(((i + 0.5) * STEPS) / KILLS)));
    let downFor = 0;
    for (let step = 0; step < STEPS; step++) {
      if (step === skewUntil) A.skew = 0; // A's clock put right: its clocks must keep growing all the same
      if (downFor > 0 && --downFor === 0) await standin.start();
      if (killAt.has(step)) {
        for (let i = 0; i < 3 + int(6); i++) await edit(B, step);
        await killRound();
        continue;
      }
      const roll = int(100);
      if (roll < 62) await edit(rand() < 0.5 ? A : B, step);
      else if (roll < 84) await sync(rand() < 0.5 ? A : B);
      else if (roll < 88) {
        await standin.stop();
        downFor = 2 + int(6);
        count('server down');
      } else if (roll < 93) {
        standin.dropResponses(1 + int(2));
        count('answers dropped');
      } else {
        standin.failNext(1 + int(3), pickOf([500, 503, 429])!);
        count('server errors');
      }
    }

    // Stop injecting, then drain: sync both until both outboxes are empty and a whole round moves nothing.
    standin.dropResponses(0);
    standin.failNext(0, 503);
    await standin.start();
    A.skew = 0;
    let quiet = false;
    let drainCuts = 0;
    for (let round = 0; round < 16 && !quiet; round++) {
      try {
        const ra = await A.engine.syncNow();
        const rb = await B.engine.syncNow();
        quiet = ra.pushed + ra.duplicates + ra.pulled + rb.pushed + rb.duplicates + rb.pulled === 0 && pendingCount(A.w.db) + pendingCount(B.w.db) === 0;
      } catch (e) {
        // A connection the restarted server had closed can still fail the first request after it
        // (fetch reuses it): a network fault the engine retries, as here, a few at most.
        if (!(e instanceof TransportError && e.retry) || ++drainCuts > 3) throw e;
      }
    }
    console.log(`cloud soak seed ${SEED}: ${JSON.stringify(counts)}; kills: ${JSON.stringify(kills)}; ${opIds.size} ops`);
    expect(quiet, `${ctx}: the desktops did not settle after the faults stopped`).toBe(true);
    for (const d of desktops) {
      expect(d.engine.status().failures, `${ctx}: desktop ${d.name} has refused changes`).toEqual([]);
      expect(d.w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n, ctx).toBe(0);
    }
    // The schedule really did what it says (the seed decides how often; these hold for any seed at this length).
    expect(kills.filter((k) => k.outcome === 'killed').length, `${ctx}: ${JSON.stringify(kills)}`).toBeGreaterThan(0);
    expect((counts['sync A cut'] ?? 0) + (counts['sync B cut'] ?? 0), ctx).toBeGreaterThan(0);

    // Every op reached the server and was applied exactly once.
    const applied = await cloud<{ op_id: string }>('select op_id::text from public.applied_ops where op_id = any($1::uuid[])', [[...opIds]]);
    expect(applied.length, `${ctx}: ops never applied`).toBe(opIds.size);

    // PostgreSQL holds, for every field, the value and clock of the latest write (clock order).
    const rowsOf = async (tbl: 'images' | 'projects' | 'asset_tags') =>
      new Map(
        (await cloud<{ j: Record<string, unknown> }>(`select to_jsonb(t) as j from public.${tbl} t where user_id = $1`, [userId])).map((r) => [String(r.j.id), r.j]),
      );
    const server = { images: await rowsOf('images'), projects: await rowsOf('projects'), asset_tags: await rowsOf('asset_tags') };
    const lost: string[] = [];
    for (const [key, write] of oracle) {
      const [tbl, id, col] = key.split('/') as ['images' | 'projects' | 'asset_tags', string, string];
      const row = server[tbl]?.get(id);
      const kind = kindOf(TABLES[tbl], col);
      if (!row) lost.push(`${key}: no row in PostgreSQL`);
      else if ((row.clocks as Record<string, string>)[col] !== write.hlc) lost.push(`${key}: clock ${String((row.clocks as Record<string, string>)[col])}, the latest write was ${write.hlc}`);
      else if (canon(norm(kind, row[col])) !== canon(norm(kind, write.value))) lost.push(`${key}: ${JSON.stringify(row[col])}, the latest write set ${JSON.stringify(write.value)}`);
    }
    expect(lost, ctx).toEqual([]);

    // Both desktops show exactly PostgreSQL's live rows, every synced field alike.
    const deletedProjects = new Set([...server.projects.values()].filter((p) => p.deleted_at != null).map((p) => String(p.id)));
    const cloudView = (spec: TableSpec, row: Record<string, unknown>) => {
      const out: Record<string, unknown> = {};
      for (const f of spec.fields) out[f.col] = norm(f.kind, row[f.col]);
      // An asset left pointing at a project deleted elsewhere is in no project on a desktop.
      if ('project_id' in out && out.project_id !== null && deletedProjects.has(String(out.project_id))) out.project_id = null;
      return out;
    };
    const localView = (spec: TableSpec, row: Record<string, unknown>) => cloudView(spec, cloudFieldsOf(spec, row) as Record<string, unknown>);
    const liveImages = [...server.images.values()].filter((r) => r.deleted_at == null);
    const liveProjects = [...server.projects.values()].filter((r) => r.deleted_at == null);
    expect(liveImages.length, ctx).toBeGreaterThan(3);
    const expectAssets = Object.fromEntries(liveImages.map((r) => [String(r.id), cloudView(TABLES.images, r)]));
    const expectProjects = Object.fromEntries(liveProjects.map((r) => [String(r.id), cloudView(TABLES.projects, r)]));
    const liveIds = new Set(Object.keys(expectAssets));
    const expectTags = Object.fromEntries([...liveIds].map((id) => [id, [] as string[]]));
    for (const t of server.asset_tags.values()) if (t.deleted_at == null && liveIds.has(String(t.asset_id))) expectTags[String(t.asset_id)]!.push(String(t.tag).toLowerCase());
    for (const list of Object.values(expectTags)) list.sort();
    // Tag rows have the ids every desktop computes alike.
    for (const t of server.asset_tags.values()) expect(t.id, ctx).toBe(elementId(String(t.asset_id), String(t.tag).toLowerCase()));

    for (const d of desktops) {
      const assets = d.w.db.all<Record<string, unknown>>('SELECT * FROM assets');
      expect(Object.fromEntries(assets.map((r) => [String(r.id), localView(TABLES.images, r)])), `${ctx}: desktop ${d.name} assets`).toEqual(expectAssets);
      const projectRows = d.w.db.all<Record<string, unknown>>('SELECT * FROM projects');
      expect(Object.fromEntries(projectRows.map((r) => [String(r.id), localView(TABLES.projects, r)])), `${ctx}: desktop ${d.name} projects`).toEqual(expectProjects);
      const tags = Object.fromEntries(assets.map((r) => [String(r.id), [] as string[]]));
      for (const t of d.w.db.all<{ asset_id: string; name: string }>('SELECT at.asset_id, t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id')) {
        tags[t.asset_id]!.push(t.name.toLowerCase());
      }
      for (const list of Object.values(tags)) list.sort();
      expect(tags, `${ctx}: desktop ${d.name} tags`).toEqual(expectTags);
      // Nothing twice: one row per picture.
      const shas = assets.map((r) => String(r.sha256));
      expect(new Set(shas).size, `${ctx}: desktop ${d.name} holds a picture twice`).toBe(shas.length);
    }
    const cloudShas = liveImages.map((r) => String(r.sha256));
    expect(new Set(cloudShas).size, `${ctx}: PostgreSQL holds a picture twice`).toBe(cloudShas.length);
  }, 300_000);

  it("a signed-in user can neither read nor write another user's rows through any endpoint, with their own valid token", async () => {
    // The victim: a picture with a tag in a project, pushed through the real client.
    const victimEmail = 'victim@example.com';
    const victimId = await standin.addUser(victimEmail, PASSWORD);
    const w = makeWorld();
    desktops.push({ name: 'A', w, transport: new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey }), engine: new SyncEngine({ db: w.db, transport: { user: null, push: () => Promise.reject(new Error('unused')), pull: () => Promise.reject(new Error('unused')) } }), skew: 0 });
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
  it.fails("another user who knows an asset's id cannot stop its owner from tagging it", async () => {
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
