/**
 * The kill -9 soak: jobs are enqueued through the engine's queue (as the CLI and `studio serve` do)
 * and a real runner process (tests/fixtures/engine-host.ts: the engine with the test pipeline in
 * real workers) is killed with SIGKILL at seeded moments, then started again, `kills` times:
 *
 * - `step`     a random moment while a job runs its steps;
 * - `staging`  the instant a worker writes an output into the staging folder;
 * - `library`  the instant an output is renamed into the library, before the row that records it
 *              is committed (the window between the file and the database);
 * - `thumbnail` the instant the library's thumbnail writer starts a file in `.thumbs`;
 * - `startup`  right after a runner says it is ready, while it recovers the last one's jobs.
 *
 * Then one last runner runs the queue dry. Every job must be done exactly once: one `→ done`
 * transition, exactly its `count` outputs (each batch index once), each output's file in the library
 * with its size and hash, no file in the library without its row (a kill between the rename and the
 * commit must not leave one, nor a duplicate after the re-run), an empty staging folder, and a
 * database that passes integrity_check.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Database } from '../../../src-main/engine/db/database.ts';
import { JobQueue } from '../../../src-main/engine/jobs/queue.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../src-preload/contract/catalog.ts';
import { TEST_STEP_MS_ENV } from '../../fixtures/pipelines/test-pipeline.ts';
import { Random } from '../serve-fuzz/random.ts';

const HOST = fileURLToPath(new URL('../../fixtures/engine-host.ts', import.meta.url));

export type KillMoment = 'step' | 'staging' | 'library' | 'thumbnail' | 'startup';

export interface SoakOptions {
  readonly seed: number;
  readonly kills: number;
  readonly jobs: number;
  /** The moment of each kill in turn (default: drawn from the seed). */
  readonly moments?: readonly KillMoment[];
  /** Test-pipeline step time, ms (default 10). */
  readonly stepMs?: number;
  readonly log?: (line: string) => void;
}

export interface SoakReport {
  readonly seed: number;
  readonly kills: number;
  readonly byMoment: Readonly<Record<KillMoment, number>>;
  /** Kills whose moment was watched for but did not come before the fallback delay. */
  readonly fallbacks: number;
  /** Kills that landed while a job was running (so it was interrupted). */
  readonly interruptedRuns: number;
  /** Kills before which a job was let finish (so later kills met other jobs). */
  readonly progressed: number;
  /** Kills that left outputs in the library without their rows (for the next runner to remove). */
  readonly strandedKills: number;
  readonly jobs: number;
  readonly outputs: number;
  readonly failures: readonly string[];
  readonly durationMs: number;
}

interface Runner {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function startRunner(data: string, stepMs: number): Promise<Runner> {
  const child = spawn(process.execPath, [HOST, '--data', data, '--max-attempts', '1000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [TEST_STEP_MS_ENV]: String(stepMs) },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const msg = JSON.parse(line) as { ready?: boolean; role?: string };
      if (msg.ready && msg.role === 'runner') resolve({ child, exited });
      else reject(new Error(`the engine host did not become the runner: ${line}`));
    });
    child.once('exit', (code, signal) => reject(new Error(`the engine host exited (${code ?? signal}) before it was ready: ${stderr}`)));
  });
}

async function killHard(runner: Runner): Promise<void> {
  runner.child.kill('SIGKILL');
  await runner.exited;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Resolves when something is written under one of `dirs` (or after `fallbackMs`); true if it was the
 * write. `onWrite` runs inside the watch callback itself, so a kill lands within the write's window.
 */
function firstWrite(dirs: readonly { path: string; recursive: boolean }[], fallbackMs: number, onWrite: () => void): Promise<boolean> {
  return new Promise((resolve) => {
    const watchers: FSWatcher[] = [];
    let done = false;
    const finish = (hit: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      resolve(hit);
    };
    const timer = setTimeout(() => finish(false), fallbackMs);
    for (const d of dirs) {
      try {
        watchers.push(watch(d.path, { recursive: d.recursive }, (_event, name) => {
          if (!name || done) return;
          onWrite();
          finish(true);
        }));
      } catch {
        // A folder not there yet is watched for by the others, or the fallback.
      }
    }
  });
}

const JOB_TYPES: readonly JobType[] = ['sdxl_image_fast', 'sdxl_image_fast', 'sdxl_image_high', 'image_fast', 'video_fast'];

export async function runKill9Soak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const r = new Random(options.seed);
  const stepMs = options.stepMs ?? 10;
  const data = mkdtempSync(join(tmpdir(), 'studio-kill9-soak-'));
  const failures: string[] = [];
  const byMoment: Record<KillMoment, number> = { step: 0, staging: 0, library: 0, thumbnail: 0, startup: 0 };
  let fallbacks = 0;
  let interruptedRuns = 0;
  let progressed = 0;
  let strandedKills = 0;
  let runner: Runner | null = null;
  const db = { current: null as Database | null };
  try {
    runner = await startRunner(data, stepMs);
    db.current = new Database(join(data, 'studio.db'));
    const queue = new JobQueue(db.current, { instanceId: 'soak-client', maxAttempts: 1000 });
    const expected = new Map<string, number>();
    const types = new Set<JobType>(['sdxl_image_fast']);
    for (let i = 0; i < options.jobs; i++) {
      const type = r.pick(JOB_TYPES);
      types.add(type);
      const video = type === 'video_fast';
      const request = video
        ? { type, prompt: `soak ${i}`, steps: r.int(4, 10), width: 256, height: 256, frames: 5 }
        : type.startsWith('sdxl')
          ? // Big enough that hashing the next output takes a while: a wide window between the first
            // file moved into the library and the commit that records them all.
            { type, prompt: `soak ${i}`, steps: r.int(6, 20), width: 768, height: 768, count: r.int(2, 3) }
          : { type, prompt: `soak ${i}`, steps: r.int(6, 20), width: 256, height: 256, count: 1 };
      const { type: t, params } = resolveRequest(request, () => r.int(0, 1_000_000));
      const job = queue.enqueue(t, params);
      expected.set(job.id, params.count);
    }
    // The month folders outputs land in, made now so a plain watch sees each rename into them.
    const now = new Date();
    const month = join(String(now.getUTCFullYear()), String(now.getUTCMonth() + 1).padStart(2, '0'));
    const libraryDirs = [...types].map((t) => join(data, 'library', t, month));
    const thumbDirs = [...types].map((t) => join(data, 'library', '.thumbs', t));
    for (const d of [...libraryDirs, ...thumbDirs]) mkdirSync(d, { recursive: true });

    const running = (): number => db.current!.get<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE status = 'running'")!.n;
    const finished = (): number => db.current!.get<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE status = 'done'")!.n;
    const unfinished = (): number => db.current!.get<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')")!.n;

    for (let k = 0; k < options.kills; k++) {
      if (unfinished() === 0) {
        // Everything finished before the kills ran out: more work, so every kill meets a job.
        const { type, params } = resolveRequest({ type: 'sdxl_image_fast', prompt: `soak extra ${k}`, steps: r.int(6, 20), width: 768, height: 768, count: r.int(2, 3) }, () => r.int(0, 1_000_000));
        expected.set(queue.enqueue(type, params).id, params.count);
      }
      // Often a job is let finish first, so the kills land on different jobs, with the queue at
      // different points, not on the same first job every time.
      if (r.chance(0.4)) {
        const before = finished();
        const until = Date.now() + 30_000;
        while (finished() === before && unfinished() > 0 && Date.now() < until) await sleep(20);
        progressed++;
      }
      const current: Runner = runner;
      const killNow = (): void => void current.child.kill('SIGKILL');
      const drawn = r.weighted<KillMoment>([[4, 'step'], [3, 'staging'], [3, 'library'], [1, 'thumbnail'], [1, 'startup']]);
      const moment = options.moments ? options.moments[k % options.moments.length]! : drawn;
      byMoment[moment]++;
      if (moment === 'step') {
        const until = Date.now() + 10_000;
        while (running() === 0 && Date.now() < until) await sleep(5);
        await sleep(r.int(0, 20 * stepMs));
      } else if (moment === 'staging') {
        if (!(await firstWrite([{ path: join(data, 'staging'), recursive: true }], 10_000, killNow))) fallbacks++;
      } else if (moment === 'library') {
        if (!(await firstWrite(libraryDirs.map((path) => ({ path, recursive: false })), 10_000, killNow))) fallbacks++;
      } else if (moment === 'thumbnail') {
        if (!(await firstWrite(thumbDirs.map((path) => ({ path, recursive: false })), 10_000, killNow))) fallbacks++;
      }
      if (running() > 0) interruptedRuns++;
      await killHard(runner);
      // Files the dead runner moved into the library without committing their rows: the window the
      // next runner must clean up after.
      const rows = new Set(db.current.all<{ file_path: string }>('SELECT file_path FROM assets').map((a) => a.file_path));
      const stranded = filesUnder(join(data, 'library')).filter((rel) => !rel.startsWith('.thumbs/') && !rows.has(rel)).length;
      if (stranded > 0) strandedKills++;
      log(`kill ${k + 1}/${options.kills} (${moment}): ${finished()} job(s) done, ${unfinished()} left${stranded ? `, ${stranded} output(s) stranded without rows` : ''}`);
      runner = await startRunner(data, stepMs);
    }

    // The last runner runs the queue dry.
    const until = Date.now() + 120_000 + options.jobs * 5000;
    while (unfinished() > 0 && Date.now() < until) await sleep(50);
    if (unfinished() > 0) failures.push(`${unfinished()} job(s) still queued or running two minutes after the last kill`);
    const exited = runner.exited;
    runner.child.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000).then(() => runner!.child.kill('SIGKILL'))]);
    await exited;
    runner = null;

    const d = db.current;
    const jobs = d.all<{ id: string; status: string; error_message: string | null }>('SELECT id, status, error_message FROM jobs');
    const assets = d.all<{ id: string; job_id: string; file_path: string; thumb_path: string | null; file_size: number; sha256: string; batch_index: number | null }>(
      'SELECT id, job_id, file_path, thumb_path, file_size, sha256, batch_index FROM assets',
    );
    let outputs = 0;
    for (const job of jobs) {
      const want = expected.get(job.id);
      if (want === undefined) failures.push(`job ${job.id} is in the database but was never enqueued`);
      if (job.status !== 'done') failures.push(`job ${job.id} ended ${job.status}${job.error_message ? `: ${job.error_message}` : ''}`);
      const dones = d.get<{ n: number }>("SELECT count(*) AS n FROM job_events WHERE job_id = ? AND to_status = 'done'", job.id)!.n;
      if (dones !== 1) failures.push(`job ${job.id} was marked done ${dones} times`);
      const mine = assets.filter((a) => a.job_id === job.id);
      outputs += mine.length;
      if (want !== undefined && mine.length !== want) failures.push(`job ${job.id} has ${mine.length} output(s), not ${want}`);
      const indices = new Set(mine.map((a) => a.batch_index));
      if (indices.size !== mine.length) failures.push(`job ${job.id} holds a batch index twice: ${mine.map((a) => a.batch_index).join(', ')}`);
    }
    for (const id of expected.keys()) if (!jobs.some((j) => j.id === id)) failures.push(`job ${id} was enqueued and is gone`);
    const library = join(data, 'library');
    const known = new Set<string>();
    for (const a of assets) {
      known.add(a.file_path);
      if (a.thumb_path) known.add(a.thumb_path);
      try {
        const bytes = readFileSync(join(library, a.file_path));
        if (bytes.length !== a.file_size) failures.push(`${a.file_path} is ${bytes.length} bytes, its row says ${a.file_size}`);
        else if (createHash('sha256').update(bytes).digest('hex') !== a.sha256) failures.push(`${a.file_path} does not match its recorded hash`);
      } catch {
        failures.push(`asset ${a.id} has a row but no file (${a.file_path})`);
      }
    }
    const sameBytes = new Map<string, number>();
    for (const a of assets) sameBytes.set(a.sha256, (sameBytes.get(a.sha256) ?? 0) + 1);
    for (const [hash, n] of sameBytes) if (n > 1) failures.push(`${n} assets hold the same bytes (${hash.slice(0, 12)}…): a duplicate`);
    // Thumbnails the library makes later for a file it has a row for are its own; anything else is an orphan.
    for (const rel of filesUnder(library)) {
      if (known.has(rel)) continue;
      const thumbOf = /^\.thumbs\/(?:[^/]+\/)?([0-9a-f-]{36})[^/]*$/.exec(rel)?.[1];
      if (thumbOf && assets.some((a) => a.id === thumbOf)) continue;
      failures.push(`${rel} is in the library without a row`);
    }
    const staged = filesUnder(join(data, 'staging'));
    if (staged.length) failures.push(`staging still holds ${staged.length} file(s): ${staged.slice(0, 5).join(', ')}`);
    const integrity = d.integrityCheck();
    if (integrity.join() !== 'ok') failures.push(`integrity_check: ${integrity.join('; ')}`);
    return { seed: options.seed, kills: options.kills, byMoment, fallbacks, interruptedRuns, progressed, strandedKills, jobs: jobs.length, outputs, failures, durationMs: performance.now() - started };
  } finally {
    if (runner) {
      runner.child.kill('SIGKILL');
      await runner.exited;
    }
    db.current?.close();
    rmSync(data, { recursive: true, force: true });
  }
}

