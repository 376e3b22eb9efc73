/**
 * The two-desktop soak of the cloud mirror, shared by tests/integration/cloud-soak.test.ts (short)
 * and `npm run bench -- sync-soak` (long). Desktop A and desktop B (two data folders, two studio
 * databases) are signed in as one user against ONE real PostgreSQL carrying the real migration,
 * through the unmodified supabase-js and the loopback stand-in for Supabase's HTTP front
 * (tests/helpers/supabase-standin). A seeded random schedule interleaves:
 *   - library edits on both sides through the library's own write paths: pictures imported and
 *     pictures made by finished jobs (placed and recorded as the engine does; the files mirror sends
 *     their originals to Storage, imports stay local), tags
 *     added and removed (two spellings of one tag among them), favourite, rating and title set,
 *     projects made, renamed and deleted, assets moved between projects, trashed, restored and
 *     deleted for good;
 *   - sync cycles on either side;
 *   - the server stopped for a while and started again, pushes it applies but never answers
 *     (`dropResponses`), and RPCs answered 500, 503 or 429 (`failNext`);
 *   - desktop A's clock minutes ahead for most of the run, then put right (its clocks must still
 *     grow);
 *   - `kill -9` of a process syncing desktop B's data folder (cloud-sync-child.ts, small push
 *     batches and pull pages) the moment its n-th push or pull reaches the server, a few
 *     milliseconds either side of the server's commit.
 * Then the faults stop, both drain (sync until both outboxes are empty and a whole round moves
 * nothing), and desktop A, desktop B and PostgreSQL are compared field by field.
 *
 * The oracle: every change the library records becomes one outbox op with one hybrid logical clock
 * (read right after each edit, before any sync can take it). For every (table, row, field) the op
 * with the greatest clock must be what PostgreSQL holds — value AND clock — so no edit that should
 * win was lost, whatever was cut or killed; every op id must be in the server's applied_ops (each
 * applied once, none refused); and both desktops must show exactly PostgreSQL's live rows, with
 * every synced field, the same tags and projects, and nothing extra or twice; and every live,
 * untrashed picture from a studio bucket must have its original in storage.objects at the path its
 * row names.
 *
 * Anything that differs is returned in `failures` (one line each, the first 40); a sync that fails
 * with anything but a network or server fault throws.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { JobQueue } from '../../../src-main/engine/jobs/queue.ts';
import { importFolder } from '../../../src-main/engine/library/import.ts';
import { insertAssets, placeOutputs } from '../../../src-main/engine/library/ingest.ts';
import { bulkUpdate, moveToProject, tagAssets, untagAssets, updateAsset } from '../../../src-main/engine/library/organise.ts';
import { createProject, deleteProject, updateProject } from '../../../src-main/engine/library/projects.ts';
import { emptyTrash, restoreAssets, trashAssets } from '../../../src-main/engine/library/trash.ts';
import { SyncEngine } from '../../../src-main/engine/sync/engine.ts';
import { cloudFieldsOf, pendingCount, setSyncEnabled } from '../../../src-main/engine/sync/outbox.ts';
import { TABLES, elementId } from '../../../src-main/engine/sync/tables.ts';
import type { TableSpec } from '../../../src-main/engine/sync/tables.ts';
import { SupabaseTransport, TransportError } from '../../../src-main/engine/sync/transport.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import { pilPng } from '../../fixtures/library/formats.ts';
import { makeWorld, type World } from '../../fixtures/library/world.ts';
import type { Standin } from '../supabase-standin/server.ts';

const CHILD = join(import.meta.dirname, 'cloud-sync-child.ts');
/** Tag names, two spellings of one among them (tags are one per lower-cased name). */
const TAG_NAMES = ['sea', 'Dusk', 'dusk', 'keeper', 'draft', 'B&W', 'portrait'];

export interface CloudSoakOptions {
  readonly seed: number;
  /** Schedule steps (each an edit, a sync, or a fault). */
  readonly steps: number;
  /** kill -9 rounds, spread evenly over the steps. */
  readonly kills: number;
  readonly standin: Standin;
  /** A superuser connection to the PostgreSQL behind the stand-in, to read what it holds. */
  readonly db: pg.Client;
  /** A user the stand-in knows (addUser), with no rows yet. */
  readonly email: string;
  readonly password: string;
  readonly userId: string;
}

export interface CloudSoakReport {
  readonly seed: number;
  /** How many of each edit, sync outcome and fault the schedule made. */
  readonly counts: Record<string, number>;
  readonly kills: readonly { moment: string; outcome: 'killed' | 'finished first' | 'stopped by a fault first' }[];
  /** Ops recorded on both desktops. */
  readonly ops: number;
  /** Live assets and projects at the end. */
  readonly assets: number;
  readonly projects: number;
  /** Live pictures whose original had to be in Storage (and was, unless failures say otherwise). */
  readonly files: number;
  /** How far ahead A's clock ran (ms), until the schedule put it right. */
  readonly skewMs: number;
  /** From the last fault to both desktops and PostgreSQL settled. */
  readonly drainMs: number;
  readonly drainRounds: number;
  readonly scheduleMs: number;
  /** Everything that differs; empty when the three agree. */
  readonly failures: readonly string[];
}

interface Desktop {
  readonly name: 'A' | 'B';
  readonly w: World;
  readonly engine: SyncEngine;
  /** How far this desktop's clock is ahead (ms). */
  skew: number;
}

interface Write {
  readonly hlc: string;
  readonly value: unknown;
}

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

export async function runCloudSoak(options: CloudSoakOptions): Promise<CloudSoakReport> {
  const { seed, steps, kills, standin, email, password, userId } = options;
  const scratch = mkdtempSync(join(tmpdir(), 'cloud-soak-'));
  const desktops: Desktop[] = [];
  const cloud = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await options.db.query(sql, params)).rows as T[];
  try {
      const rand = rng(seed);
      const int = (n: number) => Math.floor(rand() * n);
      const pickOf = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[int(xs.length)] : undefined);

      for (const name of ['A', 'B'] as const) {
        const w = makeWorld();
        const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
        await transport.signIn(email, password);
        setSyncEnabled(w.db, true);
        const engine = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library, batchSize: 5, pullLimit: 7 });
        desktops.push({ name, w, engine, skew: 0 });
      }
      const [A, B] = desktops as [Desktop, Desktop];
      const skew = (2 + int(9)) * 60_000; // 2 to 10 minutes ahead
      A.skew = skew;
      const skewUntil = Math.floor(steps * 0.6);

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
        if (report.imported.length !== 1) throw new Error(`importing a new picture on ${d.name} imported ${report.imported.length}: ${JSON.stringify(report.skipped)}`);
      };
      /** A finished job's picture, placed and recorded as the engine does (a studio bucket: the files mirror sends it). */
      const queues = new Map<Desktop, JobQueue>();
      const generate = async (d: Desktop) => {
        const queue = queues.get(d) ?? new JobQueue(d.w.db, { instanceId: `soak-${d.name}`, maxAttempts: 1, backoff: { baseMs: 1000, capMs: 5000 } });
        queues.set(d, queue);
        const seed = 5000 + pngs++;
        const job = queue.enqueue('sdxl_image_fast', resolveRequest({ type: 'sdxl_image_fast', prompt: `soak job ${seed} on ${d.name}` }, () => seed).params);
        queue.claim(job.id);
        const staged = join(scratch, `staged-${seed}.png`);
        writeFileSync(staged, pilPng({ width: 8, height: 8, seed }));
        const result = {
          outputs: [{ file: staged, thumbFile: null, kind: 'image' as const, mime: 'image/png', width: 8, height: 8, batchIndex: 0, seed, durationMs: null, fps: null, frameCount: null, recipe: { seed } }],
          provider: 'cpu',
          providerNote: null,
          enhancedPrompt: null,
          timings: { totalMs: 1 },
        };
        const placed = await placeOutputs(d.w.layout.library, queue.get(job.id)!, result);
        queue.complete(job.id, placed.map((p) => p.id), () => insertAssets(d.w.db, queue.get(job.id)!, placed, result));
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
          if (roll < 6) {
            await importPng(d);
            count('import');
          } else if (roll < 12) {
            await generate(d);
            count('generated');
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
            if (r.deleted !== 1) throw new Error(`deleting ${id} for good on ${d.name} deleted ${r.deleted}: ${JSON.stringify(r)}`);
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
          if (!(e instanceof TransportError)) throw new Error(`a sync on ${d.name} failed with something other than a network or server fault: ${(e as Error).stack}`);
          count(`sync ${d.name} cut`);
        }
      };

      const killed: { moment: string; outcome: string }[] = [];
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
        const child = spawn(process.execPath, [CHILD, B.w.dir, standin.url, standin.anonKey, email], {
          env: { ...process.env, STUDIO_SYNC_PASSWORD: password },
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
            throw new Error(`the syncing child never reached its ${moment}: ${out}`);
          }
          await new Promise((r) => setTimeout(r, 1));
        }
        if (!done) {
          await new Promise((r) => setTimeout(r, delay));
          child.kill('SIGKILL');
        }
        const end = await exited;
        if (end.signal === 'SIGKILL') {
          killed.push({ moment: `${moment} #${nth} +${delay} ms`, outcome: 'killed' });
        } else {
          // It finished (or met an injected fault) before the kill: only a network or server fault may stop it.
          if (end.code !== 0 && !/could not (send changes to|fetch changes from) the cloud|could not reach Supabase Auth/.test(out)) {
            throw new Error(`the process syncing B failed with something other than a network or server fault: ${out}`);
          }
          killed.push({ moment: `${moment} #${nth}`, outcome: end.code === 0 ? 'finished first' : 'stopped by a fault first' });
        }
      };

      const t0 = performance.now();
      // Both start from a few shared pictures.
      for (let i = 0; i < 3; i++) await edit(A, -1);
      await sync(A);
      await sync(B);

      const killAt = new Set(Array.from({ length: kills }, (_, i) => Math.floor(((i + 0.5) * steps) / kills)));
      let downFor = 0;
      for (let step = 0; step < steps; step++) {
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
      const scheduleMs = performance.now() - t0;
      standin.dropResponses(0);
      standin.failNext(0, 503);
      await standin.start();
      A.skew = 0;
      const t1 = performance.now();
      let quiet = false;
      let drainCuts = 0;
      let drainRounds = 0;
      for (; drainRounds < 16 && !quiet; drainRounds++) {
        try {
          const ra = await A.engine.syncNow();
          const rb = await B.engine.syncNow();
          quiet =
            ra.pushed + ra.duplicates + ra.pulled + ra.uploaded + ra.downloaded + ra.removed + rb.pushed + rb.duplicates + rb.pulled + rb.uploaded + rb.downloaded + rb.removed === 0 &&
            pendingCount(A.w.db) + pendingCount(B.w.db) === 0;
        } catch (e) {
          // A connection the restarted server had closed can still fail the first request after it
          // (fetch reuses it): a network fault the engine retries, as here, a few at most.
          if (!(e instanceof TransportError && e.retry) || ++drainCuts > 3) throw e;
        }
      }
      const drainMs = performance.now() - t1;

      const failures: string[] = [];
      const fail = (line: string) => {
        if (failures.length < 40) failures.push(line);
      };
      if (!quiet) fail(`the desktops did not settle in ${drainRounds} rounds after the faults stopped`);
      for (const d of desktops) {
        for (const f of d.engine.status().failures) fail(`desktop ${d.name}: the server refused ${f.table} ${f.id}: ${f.reason}`);
        const left = d.w.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n;
        if (left > 0) fail(`desktop ${d.name}: ${left} ops still in the outbox`);
      }

      // Every op reached the server and was applied exactly once (applied_ops has one row per op id).
      const applied = new Set((await cloud<{ op_id: string }>('select op_id::text from public.applied_ops where op_id = any($1::uuid[])', [[...opIds]])).map((r) => r.op_id));
      for (const id of opIds) if (!applied.has(id)) fail(`op ${id} never reached the server`);

      // PostgreSQL holds, for every field, the value and clock of the latest write (clock order).
      const rowsOf = async (tbl: 'images' | 'projects' | 'asset_tags' | 'jobs') =>
        new Map((await cloud<{ j: Record<string, unknown> }>(`select to_jsonb(t) as j from public.${tbl} t where user_id = $1`, [userId])).map((r) => [String(r.j.id), r.j]));
      const server = { images: await rowsOf('images'), projects: await rowsOf('projects'), asset_tags: await rowsOf('asset_tags'), jobs: await rowsOf('jobs') };
      for (const [key, write] of oracle) {
        const [tbl, id, col] = key.split('/') as ['images' | 'projects' | 'asset_tags' | 'jobs', string, string];
        const row = server[tbl]?.get(id);
        const kind = kindOf(TABLES[tbl], col);
        const clock = (row?.clocks as Record<string, string> | undefined)?.[col];
        if (!row) fail(`${key}: no row in PostgreSQL`);
        else if (clock !== write.hlc) fail(`${key}: PostgreSQL has the clock ${String(clock)}, the latest write was ${write.hlc}`);
        else if (canon(norm(kind, row[col])) !== canon(norm(kind, write.value))) fail(`${key}: PostgreSQL has ${JSON.stringify(row[col])}, the latest write set ${JSON.stringify(write.value)}`);
      }

      // Both desktops show exactly PostgreSQL's live rows, every synced field alike.
      const deletedProjects = new Set([...server.projects.values()].filter((p) => p.deleted_at != null).map((p) => String(p.id)));
      /** A row as one desktop should show it: `jobsHere`, the jobs that desktop ran (null: compare as is). */
      const cloudView = (spec: TableSpec, row: Record<string, unknown>, jobsHere: Set<string> | null = null) => {
        const out: Record<string, unknown> = {};
        for (const f of spec.fields) out[f.col] = norm(f.kind, row[f.col]);
        // An asset left pointing at a project deleted elsewhere is in no project on a desktop.
        if ('project_id' in out && out.project_id !== null && deletedProjects.has(String(out.project_id))) out.project_id = null;
        // Job records stay with the desktop that ran them (apply.ts): elsewhere the asset has no job.
        if (jobsHere && 'job_id' in out && out.job_id !== null && !jobsHere.has(String(out.job_id))) out.job_id = null;
        return canon(out);
      };
      const localView = (spec: TableSpec, row: Record<string, unknown>) => cloudView(spec, cloudFieldsOf(spec, row) as Record<string, unknown>);
      const liveImages = [...server.images.values()].filter((r) => r.deleted_at == null);
      const liveProjects = [...server.projects.values()].filter((r) => r.deleted_at == null);
      const want = {
        projects: new Map(liveProjects.map((r) => [String(r.id), cloudView(TABLES.projects, r)])),
        tags: new Map(liveImages.map((r) => [String(r.id), [] as string[]])),
      };
      for (const t of server.asset_tags.values()) if (t.deleted_at == null) want.tags.get(String(t.asset_id))?.push(String(t.tag).toLowerCase());
      // Tag rows have the ids every desktop computes alike.
      for (const t of server.asset_tags.values()) {
        if (t.id !== elementId(String(t.asset_id), String(t.tag).toLowerCase())) fail(`asset_tags ${String(t.id)} is not sync_element_id(${String(t.asset_id)}, ${String(t.tag)})`);
      }
      const compare = (what: string, got: Map<string, string>, expected: Map<string, string>) => {
        for (const [id, v] of expected) {
          if (!got.has(id)) fail(`${what} ${id}: in PostgreSQL, missing here`);
          else if (got.get(id) !== v) fail(`${what} ${id}: here ${got.get(id)}, PostgreSQL ${v}`);
        }
        for (const id of got.keys()) if (!expected.has(id)) fail(`${what} ${id}: here, not live in PostgreSQL`);
      };
      for (const d of desktops) {
        const assets = d.w.db.all<Record<string, unknown>>('SELECT * FROM assets');
        const jobsHere = new Set(d.w.db.all<{ id: string }>('SELECT id FROM jobs').map((r) => r.id));
        const wantAssets = new Map(liveImages.map((r) => [String(r.id), cloudView(TABLES.images, r, jobsHere)]));
        compare(`desktop ${d.name} asset`, new Map(assets.map((r) => [String(r.id), localView(TABLES.images, r)])), wantAssets);
        const projectRows = d.w.db.all<Record<string, unknown>>('SELECT * FROM projects');
        compare(`desktop ${d.name} project`, new Map(projectRows.map((r) => [String(r.id), localView(TABLES.projects, r)])), want.projects);
        const tags = new Map(assets.map((r) => [String(r.id), [] as string[]]));
        for (const t of d.w.db.all<{ asset_id: string; name: string }>('SELECT at.asset_id, t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id')) {
          tags.get(t.asset_id)?.push(t.name.toLowerCase());
        }
        // Tags compare by lower-cased name: a desktop keeps one spelling per tag for all its assets.
        const sorted = (m: Map<string, string[]>) => new Map([...m].map(([id, list]) => [id, JSON.stringify([...list].sort())]));
        compare(`desktop ${d.name} tags of asset`, sorted(tags), sorted(want.tags));
        // Nothing twice: one row per picture.
        const shas = assets.map((r) => String(r.sha256));
        if (new Set(shas).size !== shas.length) fail(`desktop ${d.name} holds a picture twice`);
      }
      // Files: every live, untrashed picture from a studio bucket has its original in Storage, at the
      // path its row names (imports stay local: files.ts keeps the buckets for the studio's own outputs).
      const objects = new Set(
        (await cloud<{ o: string }>(`select bucket_id || '/' || name as o from storage.objects where owner_id = $1::text`, [userId])).map((o) => o.o),
      );
      let filesChecked = 0;
      for (const r of liveImages) {
        if (String(r.bucket) === 'user_uploads' || r.trashed_at != null) continue; // files.ts sends neither
        filesChecked++;
        if (typeof r.storage_path !== 'string') fail(`image ${String(r.id)} (${String(r.bucket)}): no storage_path after draining`);
        else if (!objects.has(`${String(r.bucket)}/${r.storage_path}`)) fail(`image ${String(r.id)}: no object ${String(r.bucket)}/${r.storage_path} in storage.objects`);
      }
      const cloudShas = liveImages.map((r) => String(r.sha256));
      if (new Set(cloudShas).size !== cloudShas.length) fail('PostgreSQL holds a picture twice');

      return {
        seed,
        counts,
        kills: killed as CloudSoakReport['kills'],
        ops: opIds.size,
        assets: liveImages.length,
        projects: liveProjects.length,
        skewMs: skew,
        files: filesChecked,
        drainMs,
        drainRounds,
        scheduleMs,
        failures,
      };
  } finally {
    Date.now = realNow;
    for (const d of desktops) {
      await d.engine.stop();
      await d.w.close();
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}
