/**
 * Engine figures: queue overhead per job inside the scheduler (claim → dispatch to the worker,
 * worker result → next claim, with the real store, library ingest and asset rows; the worker is an
 * in-process stand-in that answers at once so only the engine's own cost is timed), the round trip
 * through a real forked worker for a zero-work job, and `studio serve` start-up.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Database } from '../../src-main/engine/db/database.ts';
import { JobQueue } from '../../src-main/engine/jobs/queue.ts';
import { ModelRegistry } from '../../src-main/engine/models/registry.ts';
import { Scheduler } from '../../src-main/engine/scheduler/scheduler.ts';
import type { RunEnd, SupervisorPort } from '../../src-main/engine/scheduler/scheduler.ts';
import { Engine } from '../../src-main/engine/engine.ts';
import { encodePng } from '../../src-main/engine/media/png-encode.ts';
import { resolveRequest } from '../../src-preload/contract/catalog.ts';
import type { RunRequest } from '../../src-main/engine/pipelines/types.ts';
import type { Bench, Figure } from './harness.ts';
import { median, percentile } from './harness.ts';

const TINY_PNG = encodePng({ width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3) });

async function schedulerOverhead(jobs: number): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sched-'));
  const db = new Database(join(dir, 'studio.db'));
  const queue = new JobQueue(db, { instanceId: 'bench' });
  const claimedAt = new Map<string, number>();
  const claimToStart: number[] = [];
  const completeToNext: number[] = [];
  let lastReturn: number | null = null;
  queue.onChange((j) => {
    if (j.status.state === 'running' && j.status.step === 0 && !claimedAt.has(j.id)) {
      const t = performance.now();
      claimedAt.set(j.id, t);
      if (lastReturn !== null) completeToNext.push(t - lastReturn);
    }
  });
  let finished = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((r) => (resolveAll = r));
  const supervisor: SupervisorPort = {
    async run(_slot: string, request: RunRequest): Promise<RunEnd> {
      claimToStart.push(performance.now() - claimedAt.get(request.jobId)!);
      const file = join(request.stagingDir, '00.png');
      writeFileSync(file, TINY_PNG);
      const end: RunEnd = {
        kind: 'done',
        result: {
          outputs: [{ file, thumbFile: null, kind: 'image', mime: 'image/png', width: 8, height: 8, batchIndex: 0, seed: 1, durationMs: null, fps: null, frameCount: null, recipe: {} }],
          provider: 'cpu',
          providerNote: null,
          enhancedPrompt: null,
          timings: {},
        },
      };
      lastReturn = performance.now();
      if (++finished === jobs) setImmediate(resolveAll);
      return end;
    },
    cancel: () => undefined,
    unload: async () => undefined,
    resetCrashes: () => undefined,
  };
  const scheduler = new Scheduler({
    db,
    queue,
    models: new ModelRegistry([]),
    supervisor,
    gpu: { budgetMb: () => 24_000, startJob: () => undefined, endJob: () => null },
    libraryRoot: () => join(dir, 'library'),
    stagingRoot: join(dir, 'staging'),
    modelsHint: dir,
    providers: () => ['cpu'],
    modelOverrides: { sdxl: { id: 'bench', family: 'sdxl', path: dir } },
    ffmpeg: async () => ({ ok: false, problem: 'not_found', message: 'not needed: this bench runs image jobs' }),
    onProgress: () => undefined,
    onResidencyChange: () => undefined,
  });
  mkdirSync(join(dir, 'staging'), { recursive: true });
  for (let i = 0; i < jobs; i++) {
    const r = resolveRequest({ type: 'sdxl_image_fast', prompt: `job ${i}`, count: 1 }, () => i);
    queue.enqueue(r.type, r.params);
  }
  const t0 = performance.now();
  scheduler.kick();
  await all;
  const wall = performance.now() - t0;
  await scheduler.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return [
    { name: `scheduler: claim → dispatch to worker (median of ${jobs})`, value: median(claimToStart), unit: 'ms', target: { op: '<', value: 2 } },
    { name: 'scheduler: claim → dispatch (p95)', value: percentile(claimToStart, 95), unit: 'ms' },
    { name: 'scheduler: worker result → next claim, incl. hashing, moving the file and asset rows (median)', value: median(completeToNext), unit: 'ms', target: { op: '<', value: 2 } },
    { name: 'scheduler: worker result → next claim (p95)', value: percentile(completeToNext, 95), unit: 'ms' },
    { name: 'scheduler: jobs per second end to end with an instant worker', value: Math.round((jobs / wall) * 1000), unit: 'jobs/s' },
  ];
}

async function workerRoundTrip(jobs: number): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-worker-'));
  process.env.OURVIDZ_TEST_STEP_MS = '0';
  const testPipeline = fileURLToPath(new URL('../fixtures/pipelines/test-pipeline.ts', import.meta.url));
  const engine = await Engine.open({
    dataDir: dir,
    frontDoor: 'cli',
    role: 'runner',
    pipelineOverrides: { sdxl: { module: testPipeline, model: { id: 'bench', family: 'sdxl', path: dir } } },
  });
  // Warm the worker once (process start and module load are not per-job costs).
  const warm = await engine.handlers['jobs.enqueue']({ request: { type: 'sdxl_image_fast', prompt: 'warm', steps: 1, count: 1, width: 256, height: 256 } });
  await engine.waitFor(warm.id);
  const ids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) {
    const j = await engine.handlers['jobs.enqueue']({ request: { type: 'sdxl_image_fast', prompt: `rt ${i}`, steps: 1, count: 1, width: 256, height: 256 } });
    ids.push(j.id);
  }
  for (const id of ids) await engine.waitFor(id);
  const wall = performance.now() - t0;
  await engine.close();
  delete process.env.OURVIDZ_TEST_STEP_MS;
  rmSync(dir, { recursive: true, force: true });
  return [
    {
      name: 'real forked worker: whole job for a 1-step 256² test job (enqueue → done, incl. PNG encode and IPC)',
      value: wall / jobs,
      unit: 'ms',
      note: `${jobs} jobs`,
    },
  ];
}

async function serveReady(runs: number): Promise<Figure[]> {
  const bin = fileURLToPath(new URL('../../bin/studio.mjs', import.meta.url));
  const walls: number[] = [];
  const reported: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-serve-'));
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, '--data', dir, 'serve', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    walls.push(performance.now() - t0);
    reported.push((JSON.parse(line) as { readyMs: number }).readyMs);
    await new Promise((r) => {
      child.once('exit', r);
      child.kill('SIGTERM');
    });
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    { name: `studio serve: spawn → listening and printed (median of ${runs})`, value: median(walls), unit: 'ms', target: { op: '<', value: 1000 } },
    { name: 'studio serve: ready as measured inside the process (from its start)', value: median(reported), unit: 'ms' },
  ];
}

export const engineBench: Bench = {
  name: 'engine',
  async run(): Promise<Figure[]> {
    return [...(await schedulerOverhead(500)), ...(await workerRoundTrip(30)), ...(await serveReady(5))];
  },
};
