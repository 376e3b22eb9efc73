/**
 * `npm run bench -- sync-soak`: the long two-desktop soak, and what the cloud mirror costs a
 * generation running beside it.
 *
 * 1. tests/helpers/soak/cloud.ts at length (SYNC_SOAK_SCHEDULE steps, default 3,000, with
 *    SYNC_SOAK_KILLS kill -9 rounds, default 30; SYNC_SOAK_SEED, default 11): randomized edits on two
 *    desktops, disconnects, dropped answers, 500/503/429, a skewed clock and kill -9 of a syncing
 *    process, then drained and compared field by field. Figures: the differences found (must be 0)
 *    and the time from the last fault to both desktops and PostgreSQL settled.
 *
 * 2. One real engine (Engine.open, as `studio serve` runs it: the durable queue, the scheduler and
 *    a forked inference worker) runs a fixed SDXL job on the tiny random-weight fixture
 *    (tests/fixtures/sdxl, CPU; SYNC_SOAK_SIZE², SYNC_SOAK_STEPS steps, default 1024² and 20),
 *    alternately alone and with a busy sync loop in the same process on the same studio database:
 *    1,000 library assets back-filled and pushed, then every asset's favourite flipped and the whole
 *    lot pushed and pulled again, over and over, through the unmodified supabase-js to the real
 *    PostgreSQL behind the loopback stand-in. Records only (no library root is given to the sync
 *    engine, so no files move): the record traffic is what runs beside every job, files go once.
 *    Figures: the job's wall time (enqueue → done) alone and with sync busy, medians over
 *    SYNC_SOAK_REPS pairs (default 5, order alternated), the median overhead, and this process's CPU
 *    time per job. On a small machine the PostgreSQL server, which a real user's Supabase runs
 *    elsewhere, competes for the same cores: the note says how many.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Engine } from '../../src-main/engine/engine.ts';
import { bulkUpdate } from '../../src-main/engine/library/organise.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { pendingCount, setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { SupabaseTransport } from '../../src-main/engine/sync/transport.ts';
import { invoke } from '../../src-main/cli/dispatch.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin } from '../helpers/supabase-standin/server.ts';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { addAsset } from '../fixtures/library/world.ts';
import { runCloudSoak } from '../helpers/soak/cloud.ts';
import type { Bench, Figure } from './harness.ts';
import { median } from './harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORD = 'bench password';

/** The cluster's server processes (Linux /proc): the postmaster (its socket lock file's first line) and its children. */
function serverPids(cluster: PgCluster): number[] {
  const master = Number(readFileSync(join(cluster.socketDir, `.s.PGSQL.${cluster.port}.lock`), 'utf8').split('\n')[0]);
  const pids = [master];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === master) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU time (ms) the server processes have used so far: utime + stime, at 100 ticks a second. */
function serverCpuMs(cluster: PgCluster): number {
  let ticks = 0;
  for (const pid of serverPids(cluster)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10;
}

export const syncSoakBench: Bench = {
  name: 'sync-soak',
  async run(): Promise<Figure[]> {
    const bin = findPostgresBin();
    if (!bin) throw new Error('the sync-soak bench needs PostgreSQL (apt-get install postgresql, or set OURVIDZ_PG_BIN)');
    const reps = Number(process.env.SYNC_SOAK_REPS ?? 5);
    const size = Number(process.env.SYNC_SOAK_SIZE ?? 1024);
    const steps = Number(process.env.SYNC_SOAK_STEPS ?? 20);
    const dir = mkdtempSync(join(tmpdir(), 'bench-sync-soak-'));
    const cluster = startCluster(bin);
    const admin = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await admin.connect();
    const standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    let engine: Engine | null = null;
    try {
      await admin.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
      const migrations = join(ROOT, 'supabase', 'migrations');
      for (const f of readdirSync(migrations).filter((x) => x.endsWith('.sql')).sort()) await admin.query(readFileSync(join(migrations, f), 'utf8'));
      await standin.addUser('gen@example.com', PASSWORD);
      const figures: Figure[] = [];

      // 1. The long soak.
      {
        const seed = Number(process.env.SYNC_SOAK_SEED ?? 11);
        const steps = Number(process.env.SYNC_SOAK_SCHEDULE ?? 3000);
        const kills = Number(process.env.SYNC_SOAK_KILLS ?? 30);
        const userId = await standin.addUser('soak@example.com', PASSWORD);
        const r = await runCloudSoak({ seed, steps, kills, standin, db: admin, email: 'soak@example.com', password: PASSWORD, userId });
        const landed = r.kills.filter((k) => k.outcome === 'killed').length;
        const cuts = (r.counts['sync A cut'] ?? 0) + (r.counts['sync B cut'] ?? 0);
        const c = (k: string) => r.counts[k] ?? 0;
        figures.push({
          name: `two-desktop soak, seed ${seed}, ${steps} steps: differences between A, B and PostgreSQL after draining`,
          value: r.failures.length,
          unit: 'differences',
          target: { op: '<', value: 1 },
          note:
            `${r.ops} ops, ${r.assets} live assets, ${r.projects} projects; ${landed} of ${r.kills.length} kill -9 rounds landed mid-sync, ` +
            `${c('server down')} server stops, ${c('answers dropped')} dropped answers, ${c('server errors')} 500/503/429 bursts, ${cuts} syncs cut; ` +
            `A's clock ${r.skewMs / 60_000} min ahead for 60 % of it; schedule ${(r.scheduleMs / 1000).toFixed(1)} s` +
            (r.failures.length ? `; first: ${r.failures[0]}` : ''),
        });
        figures.push({ name: 'the same soak: from the last fault to both desktops and PostgreSQL settled', value: r.drainMs / 1000, unit: 's', target: { op: '<', value: 60 }, note: `${r.drainRounds} rounds of a sync on each` });
      }

      const models = join(dir, 'models');
      await buildSdxlFixture(join(models, 'sdxl-tiny'));
      engine = await Engine.open({ dataDir: join(dir, 'data'), modelDirs: [models], frontDoor: 'cli', role: 'runner', providers: ['cpu'] });
      const e = engine;
      /** Wall time of one job, and the CPU time this (the engine's) process and the PostgreSQL server used meanwhile. */
      const job = async (seed: number) => {
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const pg0 = serverCpuMs(cluster);
        const queued = await invoke(e.handlers, 'jobs.enqueue', {
          request: { type: 'sdxl_image_fast', prompt: 'a lighthouse on a cliff at dusk', seed, steps, width: size, height: size, count: 1 },
        });
        const done = await e.waitFor(queued.id);
        if (done.status.state !== 'done') throw new Error(`the bench job ended ${done.status.state}: ${JSON.stringify(done.status)}`);
        const cpu = process.cpuUsage(cpu0);
        return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, pgMs: serverCpuMs(cluster) - pg0 };
      };

      // 1,000 assets in the engine's own library, the mirror on (back-fill), signed in.
      const ids = Array.from({ length: 1000 }, (_, i) => addAsset({ db: e.db, layout: e.layout }, { prompt: `library ${i}`, seed: i, recipe: { steps: 20, sampler: 'euler' } }));
      const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
      await transport.signIn('gen@example.com', PASSWORD);
      const sync = new SyncEngine({ db: e.db, transport });

      let busy = false;
      let cycles = 0;
      let ops = 0;
      let loop: Promise<void> = Promise.resolve();
      const startSync = () => {
        busy = true;
        loop = (async () => {
          let flip = false;
          while (busy) {
            if (pendingCount(e.db) === 0) bulkUpdate(e.db, ids, { favorite: (flip = !flip) });
            cycles++;
            const r = await sync.syncNow();
            ops += r.pushed + r.pulled;
          }
        })();
      };
      const stopSync = async () => {
        busy = false;
        await loop;
      };

      await job(1); // the worker starts and loads the model
      await job(2);
      setSyncEnabled(e.db, true); // back-fills the 1,000 assets: the first busy round pushes them

      /** SYNC_SOAK_REPS pairs of the job alone and beside the busy sync loop, in alternating order. */
      const measure = async () => {
        const alone: { ms: number; cpuMs: number; pgMs: number }[] = [];
        const beside: { ms: number; cpuMs: number; pgMs: number }[] = [];
        const [c0, o0] = [cycles, ops];
        for (let i = 0; i < reps; i++) {
          for (const withSync of i % 2 === 0 ? [false, true] : [true, false]) {
            if (withSync) {
              startSync();
              await new Promise((r) => setTimeout(r, 200)); // the loop is in full swing when the job starts
              beside.push(await job(10 + i));
              await stopSync();
            } else {
              alone.push(await job(10 + i));
            }
          }
        }
        const m = (xs: { ms: number; cpuMs: number; pgMs: number }[], k: 'ms' | 'cpuMs' | 'pgMs') => median(xs.map((x) => x[k])) / 1000;
        return {
          alone: m(alone, 'ms'),
          beside: m(beside, 'ms'),
          overhead: (100 * (m(beside, 'ms') - m(alone, 'ms'))) / m(alone, 'ms'),
          list: (xs: typeof alone) => xs.map((x) => (x.ms / 1000).toFixed(2)).join(', '),
          alones: alone,
          besides: beside,
          cpu: { alone: m(alone, 'cpuMs'), beside: m(beside, 'cpuMs') },
          pg: { alone: m(alone, 'pgMs'), beside: m(beside, 'pgMs') },
          cycles: cycles - c0,
          ops: ops - o0,
        };
      };

      const label = `SDXL tiny fixture, ${size}², ${steps} steps, 1 image, CPU, a forked worker`;
      const shared = await measure();
      figures.push(
        { name: `job wall time alone (${label})`, value: shared.alone, unit: 's', note: `median of ${reps}: ${shared.list(shared.alones)}` },
        { name: 'job wall time with the sync loop busy in the same engine process', value: shared.beside, unit: 's', note: `median of ${reps}: ${shared.list(shared.besides)}` },
        {
          name: 'generation overhead while sync runs, PostgreSQL on the same cores (median with / median alone − 1)',
          value: shared.overhead,
          unit: '%',
          target: { op: '<', value: 2 },
          note: `${shared.cycles} sync cycles moved ${shared.ops} records during the ${reps} busy windows; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end`,
        },
        {
          name: 'CPU per job: the engine process (scheduler, library, the sync client when busy), alone → with sync',
          value: shared.cpu.beside,
          unit: 's',
          note: `alone ${shared.cpu.alone.toFixed(2)} s`,
        },
        { name: 'CPU per job: the PostgreSQL server, alone → with sync', value: shared.pg.beside, unit: 's', note: `alone ${shared.pg.alone.toFixed(2)} s` },
      );

      // The same with the PostgreSQL server at the lowest priority (nice 19): it then runs on what the
      // job leaves, closer to a user's Supabase, which runs on another machine.
      for (const pid of serverPids(cluster)) setPriority(pid, 19);
      const remote = await measure();
      figures.push({
        name: 'generation overhead while sync runs, PostgreSQL at nice 19 (standing in for a server elsewhere)',
        value: remote.overhead,
        unit: '%',
        target: { op: '<', value: 2 },
        note: `alone ${remote.alone.toFixed(2)} s (${remote.list(remote.alones)}), with sync ${remote.beside.toFixed(2)} s (${remote.list(remote.besides)}); ${remote.cycles} cycles moved ${remote.ops} records; engine process CPU per job ${remote.cpu.alone.toFixed(2)} → ${remote.cpu.beside.toFixed(2)} s`,
      });
      return figures;
    } finally {
      await engine?.close();
      await standin.close();
      await admin.end().catch(() => undefined);
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
