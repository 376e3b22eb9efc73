/**
 * A disk that fills during a job fails that job with `disk_full` and a sentence saying what to
 * free, leaves the queue and the library consistent, and never ends the runner: after the disk is
 * freed, the same runner process runs the next job. Covered at each place a job writes — the
 * staging write (the job's PNGs), the move into the library, the database commit — and at the
 * runner lock `studio generate --wait` takes.
 *
 * Run twice: on real small filesystems (tmpfs mounts, so the kernel itself answers ENOSPC and
 * SQLite itself meets SQLITE_FULL), and with the failures injected — ENOSPC at the node:fs layer
 * (tests/fixtures/full-disk/inject-enospc.ts) and SQLITE_FULL from SQLite's own page limit — which
 * needs no root, so CI covers the mechanism even where it cannot mount.
 *
 * Layout, as a user with the library on another drive has it: the data folder (database, lock,
 * logs), its staging folder and the library each on a disk of their own, so each can fill alone.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src-main/engine/db/database.ts';
import { JobQueue } from '../../src-main/engine/jobs/queue.ts';
import { setLibraryRoot } from '../../src-main/engine/library/store.ts';
import { resolveRequest } from '../../src-preload/contract/catalog.ts';
import type { GenerateRequest } from '../../src-preload/contract/catalog.ts';
import type { JobView } from '../../src-preload/contract/status.ts';
import { injection, tmpfsDisk, tmpfsSupport } from '../fixtures/full-disk/disks.ts';
import type { Disk } from '../fixtures/full-disk/disks.ts';
import { studio } from '../helpers/cli.ts';

const HOST = new URL('../fixtures/full-disk/host.ts', import.meta.url).pathname;
const TMPFS = tmpfsSupport();

/** A long prompt, so a job's asset rows need new database pages (the injected SQLITE_FULL). */
const LONG = Array.from({ length: 300 }, (_, i) => `word${(i * 7919) % 1000}`).join(' ');

interface Setup {
  readonly root: string;
  readonly data: string;
  readonly staging: string;
  readonly library: string;
  readonly disks: { data: Disk; staging: Disk; library: Disk };
  /** Environment for the runner and CLI processes. */
  readonly env: NodeJS.ProcessEnv;
  /** Fills / frees the disk under the database, as the variant does it. */
  fillDatabase(): Promise<void>;
  freeDatabase(): Promise<void>;
}

interface Host {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  send(command: object): Promise<{ ok: boolean; notices: string[] }>;
}

function startHost(setup: Setup): Promise<Host> {
  const child = spawn(process.execPath, [HOST, '--data', setup.data], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...setup.env, OURVIDZ_TEST_STEP_MS: '40' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8000)));
  const lines: Interface = createInterface({ input: child.stdout! });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code, signal) => reject(new Error(`the runner exited (${code ?? signal}) before answering:\n${stderr}`)));
    });
  return next().then((line) => {
    const ready = JSON.parse(line) as { ready: boolean; role: string };
    if (!ready.ready || ready.role !== 'runner') throw new Error(`the host did not become the runner: ${line}`);
    return {
      child,
      stderr: () => stderr,
      async send(command) {
        const answer = next();
        child.stdin!.write(`${JSON.stringify(command)}\n`);
        return JSON.parse(await answer) as { ok: boolean; notices: string[] };
      },
    };
  });
}

async function stopHost(host: Host): Promise<void> {
  if (host.child.exitCode !== null || host.child.signalCode !== null) return;
  const exited = new Promise((r) => host.child.once('exit', r));
  host.child.kill('SIGTERM');
  await exited;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== '.filler')
    .map((e) => join(e.parentPath, e.name));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const variant of ['tmpfs', 'injected'] as const) {
  const skip = variant === 'tmpfs' && !TMPFS.ok ? ` — skipped: ${TMPFS.ok ? '' : TMPFS.reason}` : '';
  describe.skipIf(skip !== '')(`a full disk (${variant === 'tmpfs' ? 'small tmpfs mounts' : 'injected ENOSPC and SQLITE_FULL'})${skip}`, () => {
    let setup: Setup;
    let host: Host;
    let db: Database;
    let queue: JobQueue;
    /** The library's originals before a case: a failed job adds none. */
    let libraryBefore: string[] = [];
    const rememberLibrary = (): void => {
      libraryBefore = files(setup.library).filter((f) => !f.includes('.thumbs'));
    };

    /** Fails the test at once, with the runner's last words, if the runner process has ended. */
    function expectRunnerAlive(): void {
      if (host.child.exitCode !== null || host.child.signalCode !== null) {
        throw new Error(`the runner process ended (${host.child.exitCode ?? host.child.signalCode}):\n${host.stderr()}`);
      }
    }

    async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        expectRunnerAlive();
        const v = probe();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${host.stderr()}`);
        await sleep(40);
      }
    }

    function enqueue(request: Omit<GenerateRequest, 'prompt'> & { prompt?: string }): JobView {
      const { type, params } = resolveRequest({ prompt: 'a lighthouse at dusk', width: 256, height: 256, steps: 30, ...request }, () => 7);
      return queue.enqueue(type, params);
    }

    const ended = (id: string): JobView | false => {
      const job = queue.get(id);
      const s = job?.status.state;
      return job && (s === 'done' || s === 'failed' || s === 'cancelled') ? job : false;
    };
    const runningAt = (id: string, step: number): boolean => {
      const s = queue.get(id)?.status;
      return s?.state === 'running' && s.step >= step;
    };
    const assetRows = (jobId: string): number => db.get<{ n: number }>('SELECT count(*) AS n FROM assets WHERE job_id = ?', jobId)!.n;

    /** The same runner, after the disk was freed: the next job runs and lands in the library. */
    async function nextJobRuns(request: Parameters<typeof enqueue>[0] = { type: 'sdxl_image_fast', steps: 3 }): Promise<void> {
      const job = enqueue(request);
      const final = await until(`job ${job.id} to end`, () => ended(job.id));
      expect(final.status, JSON.stringify(final.status)).toMatchObject({ state: 'done' });
      expect(assetRows(job.id)).toBe(final.params.count);
      expectRunnerAlive();
    }

    function expectDiskFull(job: JobView, place: RegExp): void {
      expect(job.status.state).toBe('failed');
      if (job.status.state !== 'failed') return;
      expect(job.status.code).toBe('disk_full');
      // What happened, on which disk, how much is free, what to free and what to do next.
      expect(job.status.message).toMatch(place);
      expect(job.status.message).toMatch(/is full \(\d+(\.\d)? (B|KB|MB|GB|TB) free\)\. Free space on it — delete files you no longer need, empty the library's Trash, or move the library to a larger disk/);
      expect(job.status.message).toMatch(/then retry the job\.$/);
      expect(job.status.message).not.toMatch(/ENOSPC|SQLITE|database or disk is full|cannot rollback/);
    }

    function expectConsistent(jobId: string): void {
      expect(assetRows(jobId)).toBe(0);
      // Originals only: thumbnails of earlier jobs are made in the background.
      expect(files(setup.library).filter((f) => !f.includes('.thumbs'))).toEqual(libraryBefore);
      expect(readdirSync(setup.staging).filter((n) => n !== '.filler')).toEqual([]);
      expect(db.integrityCheck()).toEqual(['ok']);
    }

    beforeAll(async () => {
      const root = mkdtempSync(join(tmpdir(), `disk-full-${variant}-`));
      const data = join(root, 'data');
      const staging = join(data, 'staging');
      const library = join(root, 'library');
      if (variant === 'tmpfs') {
        const disks = { data: tmpfsDisk(data, 24), staging: tmpfsDisk(staging, 24), library: tmpfsDisk(library, 24) };
        setup = {
          root,
          data,
          staging,
          library,
          disks,
          env: {},
          async fillDatabase() {
            // Start the write-ahead log afresh, so the next commit needs new space (as the first
            // commits after an open do), then take every page.
            db.get('PRAGMA wal_checkpoint(TRUNCATE)');
            disks.data.fill();
          },
          async freeDatabase() {
            disks.data.free();
          },
        };
      } else {
        const inj = injection(join(root, 'full-disks.json'));
        const disks = { data: inj.disk(data), staging: inj.disk(staging), library: inj.disk(library) };
        setup = {
          root,
          data,
          staging,
          library,
          disks,
          env: inj.env,
          fillDatabase: async () => void (await host.send({ db: 'full' })),
          freeDatabase: async () => void (await host.send({ db: 'free' })),
        };
      }
      // The library lives on its own disk, as after `studio library move` to another drive.
      db = new Database(join(data, 'studio.db'));
      setLibraryRoot(db, library);
      queue = new JobQueue(db, { instanceId: 'test-client', maxAttempts: 1 });
      host = await startHost(setup);
    });

    afterAll(async () => {
      if (host) await stopHost(host);
      db?.close();
      if (setup) {
        for (const d of [setup.disks.staging, setup.disks.library, setup.disks.data]) d.dispose();
        rmSync(setup.root, { recursive: true, force: true });
      }
    });

    it('the staging write: the job fails with disk_full, nothing is left behind, the runner runs the next job', async () => {
      rememberLibrary();
      const job = enqueue({ type: 'sdxl_image_fast', count: 2 });
      await until('the job to be mid-run', () => runningAt(job.id, 2));
      setup.disks.staging.fill();
      const final = await until('the job to end', () => ended(job.id));
      expectDiskFull(final, new RegExp(`^the job's output could not be written: the disk holding ${setup.staging}/${job.id}`));
      setup.disks.staging.free();
      expectConsistent(job.id);
      await nextJobRuns();
    });

    it('the move into the library: the job fails with disk_full, no file of it stays in the library', async () => {
      rememberLibrary();
      // A job type not run yet: its library folder is new, as on a fresh month.
      const job = enqueue({ type: 'image_fast', count: 1 });
      await until('the job to be mid-run', () => runningAt(job.id, 2));
      setup.disks.library.fill();
      const final = await until('the job to end', () => ended(job.id));
      expectDiskFull(final, new RegExp(`^the job's results could not be saved: the disk holding ${setup.library} is full`));
      setup.disks.library.free();
      expectConsistent(job.id);
      await nextJobRuns({ type: 'image_fast', steps: 3 });
    });

    it('the database commit (SQLITE_FULL): the runner survives, the end is recorded once there is room, the library keeps no orphan', async () => {
      rememberLibrary();
      const job = enqueue({ type: 'sdxl_image_fast', count: 6, prompt: LONG, negativePrompt: LONG });
      await until('the job to be mid-run', () => runningAt(job.id, 2));
      await setup.fillDatabase();
      // The worker finishes, the outputs are placed, the commit is refused and rolled back, the
      // placed files are removed again, and the staging folder goes.
      await until('the runner to have handled the end', () => !existsSync(join(setup.staging, job.id)));
      await sleep(1500);
      expectRunnerAlive();
      expect(files(setup.library).filter((f) => !f.includes('.thumbs'))).toEqual(libraryBefore);
      if (variant === 'tmpfs') {
        // Not even the failure fits: the runner keeps it and says why, and starts nothing new.
        expect(queue.get(job.id)?.status.state).toBe('running');
        const { notices } = await host.send({});
        expect(notices.join('\n')).toMatch(
          new RegExp(`job ${job.id} has ended, but the studio database could not record it: the disk holding ${setup.data}/studio\\.db is full .* then its end is saved by itself`),
        );
      }
      await setup.freeDatabase();
      const final = await until('the job to be recorded as failed', () => ended(job.id));
      expectDiskFull(final, new RegExp(`^the job's results could not be saved: the disk holding ${setup.data}/studio\\.db is full`));
      expectConsistent(job.id);
      await nextJobRuns();
    });

    it('the lock file: `studio generate --wait` says the disk is full, leaves no engine.lock temp file, and works once freed', async () => {
      await stopHost(host);
      setup.disks.data.fill();
      const asRunner = await studio(['--data', setup.data, 'generate', '--type', 'sdxl_image_fast', '--prompt', 'a harbour', '--wait'], { env: setup.env });
      expect(asRunner.code, asRunner.stderr).toBe(3);
      expect(asRunner.stderr).toMatch(
        new RegExp(`^error: could not start the engine \\(its lock file could not be written\\): the disk holding ${setup.data} is full \\(.+ free\\)\\. Free space on it .* then try again\\.\\n$`),
      );
      expect(asRunner.stderr).not.toMatch(/ENOSPC|at .*\.ts:\d+/);
      expect(readdirSync(setup.data).filter((n) => n.startsWith('engine.lock'))).toEqual([]);
      if (variant === 'tmpfs') {
        // Without --wait the CLI is a client: the database refuses the job, said the same way.
        const asClient = await studio(['--data', setup.data, 'generate', '--type', 'sdxl_image_fast', '--prompt', 'a harbour'], { env: setup.env });
        expect(asClient.code, asClient.stderr).toBe(3);
        expect(asClient.stderr).toMatch(new RegExp(`^error: could not save to the studio database: the disk holding ${setup.data}/studio\\.db is full`));
        expect(asClient.stderr).not.toMatch(/database or disk is full|SQLITE/);
      }
      setup.disks.data.free();
      host = await startHost(setup);
      const ok = await studio(['--data', setup.data, 'generate', '--type', 'sdxl_image_fast', '--prompt', 'a harbour', '--steps', '3', '--wait'], { env: setup.env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(readdirSync(setup.data).filter((n) => /^engine\.lock\..*\.tmp$/.test(n))).toEqual([]);
    });
  });
}
