/**
 * Real worker processes (child_process.fork of worker-main.ts under Node 24) running the test
 * pipeline: the paths a user notices — a job finishing with its images, cancel, a crashing worker,
 * a crash loop, unload — end to end through the supervisor.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePng } from '../../src-main/engine/media/png-decode.ts';
import { WorkerSupervisor, type RunEnd, type SupervisorOptions } from '../../src-main/engine/inference/supervisor.ts';
import type { ProgressUpdate, RunRequest } from '../../src-main/engine/pipelines/types.ts';
import type { JobParams } from '../../src-preload/contract/catalog.ts';
import { GraphBuilder, saveModel } from '../fixtures/onnx/index.ts';

const TEST_PIPELINE = fileURLToPath(new URL('../fixtures/pipelines/test-pipeline.ts', import.meta.url));
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ourvidz-worker-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function supervisor(options: SupervisorOptions = {}): WorkerSupervisor {
  const s = new WorkerSupervisor({ pipelines: { test: TEST_PIPELINE }, idleMs: 0, ...options });
  cleanups.push(() => s.close());
  return s;
}

let jobCounter = 0;

function request(dir: string, params: Partial<JobParams> = {}, modelDir = dir): RunRequest {
  const jobId = `job-${++jobCounter}`;
  return {
    jobId,
    jobType: 'sdxl_image_fast',
    params: {
      prompt: 'a lighthouse at dusk',
      negativePrompt: '',
      seed: 42,
      steps: 3,
      guidance: 7,
      width: 256,
      height: 256,
      frames: 1,
      count: 1,
      batchIndex: null,
      scheduler: 'euler',
      model: null,
      enhancedPrompt: null,
      fps: 16,
      ...params,
    },
    model: { id: 'test-model', family: 'test', path: modelDir },
    enhancer: null,
    stagingDir: join(dir, 'staging', jobId),
    maxBatch: 6,
    providers: ['cpu'],
  };
}

function expectDone(end: RunEnd): Extract<RunEnd, { kind: 'done' }> {
  if (end.kind !== 'done') throw new Error(`expected done, got ${JSON.stringify(end)}`);
  return end;
}

function expectFailed(end: RunEnd): Extract<RunEnd, { kind: 'failed' }> {
  if (end.kind !== 'failed') throw new Error(`expected failed, got ${JSON.stringify(end)}`);
  return end;
}

describe('WorkerSupervisor with real worker processes', () => {
  it('runs a job to done in a worker process, with step progress, a PNG preview and real PNG outputs', async () => {
    const dir = await tempDir();
    const s = supervisor();
    const progress: ProgressUpdate[] = [];
    const req = request(dir, { steps: 4, count: 2, width: 320, height: 192 });

    const end = expectDone(await s.run('sdxl', req, (p) => progress.push(p)));

    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(progress.every((p) => p.of === 4 && p.stage === 'denoise')).toBe(true);
    const preview = progress.find((p) => p.preview !== null)?.preview;
    expect(preview && [...preview.subarray(0, 8)]).toEqual(PNG_SIGNATURE);

    expect(end.result.outputs).toHaveLength(2);
    for (const [i, output] of end.result.outputs.entries()) {
      expect(output.file.startsWith(req.stagingDir)).toBe(true);
      const image = decodePng(new Uint8Array(await readFile(output.file)));
      expect([image.width, image.height]).toEqual([320, 192]);
      expect(output.batchIndex).toBe(i);
    }
    // Different seeds, different pictures.
    const [a, b] = await Promise.all(end.result.outputs.map((o) => readFile(o.file)));
    expect(Buffer.compare(a!, b!)).not.toBe(0);

    const [status] = s.status();
    expect(status).toMatchObject({ slot: 'sdxl', state: 'idle', crashes: 0, jobId: null });
    expect(status!.pid).not.toBe(process.pid);
    expect(status!.providersAvailable).toContain('cpu');
  });

  it('cancel stops the job at its next step and writes no output', async () => {
    const dir = await tempDir();
    const s = supervisor();
    // 1024² ≈ 100 ms of work per step: 60 steps would take seconds.
    const req = request(dir, { steps: 60, width: 1024, height: 1024 });
    const steps: number[] = [];
    let cancelledAt: number | null = null;

    const end = await s.run('sdxl', req, (p) => {
      steps.push(p.step);
      if (cancelledAt === null) {
        cancelledAt = p.step;
        expect(s.cancel(req.jobId)).toBe(true);
      }
    });

    expect(end).toEqual({ kind: 'cancelled' });
    expect(Math.max(...steps)).toBeLessThanOrEqual(cancelledAt! + 1);
    await expect(readdir(req.stagingDir)).rejects.toThrow();
    expect(s.status()[0]).toMatchObject({ state: 'idle', crashes: 0 });
    expect(s.cancel(req.jobId)).toBe(false);
  });

  it('reports pipeline errors with their code and whether a retry can help, keeping the worker', async () => {
    const dir = await tempDir();
    const s = supervisor();

    const transient = expectFailed(await s.run('sdxl', request(dir, { prompt: 'x [fail-transient]' }), () => {}));
    expect(transient).toMatchObject({ code: 'test_transient', transient: true });
    const pid = s.status()[0]!.pid;

    const permanent = expectFailed(await s.run('sdxl', request(dir, { prompt: 'x [fail]' }), () => {}));
    expect(permanent).toMatchObject({ code: 'test_failure', transient: false });
    expect(permanent.message).toContain('told to fail');

    const plain = expectFailed(await s.run('sdxl', request(dir, { prompt: 'x [throw]' }), () => {}));
    expect(plain).toMatchObject({ code: 'pipeline_error', transient: false, message: 'plain error thrown by the test pipeline' });

    const malformed = expectFailed(await s.run('sdxl', request(dir, { prompt: 'x [bad-result]' }), () => {}));
    expect(malformed.code).toBe('pipeline_bad_result');

    const missing = expectFailed(await s.run('sdxl', { ...request(dir), model: { id: 'w', family: 'wan', path: dir } }, () => {}));
    expect(missing.code).toBe('pipeline_missing');
    expect(missing.message).toContain('"wan"');

    expect(s.status()[0]).toMatchObject({ pid, crashes: 0, state: 'idle' });
  });

  it('a worker that crashes mid-job is restarted and the job fails as transient with the exit reason', async () => {
    const dir = await tempDir();
    const s = supervisor();
    const started: (number | null)[] = [];
    s.on('worker-started', (e) => started.push(e.pid));
    const exits: { crashed: boolean; signal: string | null }[] = [];
    s.on('worker-exited', (e) => exits.push(e));

    expectDone(await s.run('sdxl', request(dir), () => {}));
    const firstPid = s.status()[0]!.pid;

    const crashed = expectFailed(await s.run('sdxl', request(dir, { prompt: 'boom [crash]' }), () => {}));
    expect(crashed).toMatchObject({ code: 'worker_crashed', transient: true });
    expect(crashed.message).toContain('SIGABRT');
    expect(exits.at(-1)).toMatchObject({ crashed: true, signal: 'SIGABRT' });
    expect(s.status()[0]).toMatchObject({ crashes: 1 });
    expect(s.status()[0]!.lastCrash).toContain('SIGABRT');
    // Restarted at once, without waiting for the next job.
    expect(started).toHaveLength(2);
    expect(started[1]).not.toBe(firstPid);

    const again = expectDone(await s.run('sdxl', request(dir), () => {}));
    expect(again.result.outputs).toHaveLength(1);
    expect(s.status()[0]).toMatchObject({ crashes: 0, pid: started[1] });
  });

  it('after 5 crashes in a row stops restarting, says why, and starts again after resetCrashes()', async () => {
    const dir = await tempDir();
    const s = supervisor();
    let starts = 0;
    s.on('worker-started', () => starts++);
    const gaveUp: { slot: string; crashes: number; message: string }[] = [];
    s.on('gave-up', (e) => gaveUp.push(e));

    for (let i = 1; i <= 5; i++) {
      const end = expectFailed(await s.run('wan', request(dir, { prompt: `crash ${i} [crash]` }), () => {}));
      expect(end.code).toBe('worker_crashed');
    }
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ slot: 'wan', crashes: 5 });
    expect(s.status()[0]).toMatchObject({ state: 'gave-up', pid: null, crashes: 5 });
    expect(starts).toBe(5);

    const refused = expectFailed(await s.run('wan', request(dir), () => {}));
    expect(refused.code).toBe('worker_crash_loop');
    expect(refused.transient).toBe(false);
    expect(refused.message).toMatch(/crashed 5 times in a row/);
    expect(refused.message).toMatch(/driver/);
    expect(refused.message).toMatch(/resume the queue/);
    expect(starts).toBe(5);

    s.resetCrashes();
    expectDone(await s.run('wan', request(dir), () => {}));
    expect(s.status()[0]).toMatchObject({ state: 'idle', crashes: 0 });
  });

  it('a job that completes between crashes resets the count', async () => {
    const dir = await tempDir();
    const s = supervisor({ maxConsecutiveCrashes: 2 });
    expectFailed(await s.run('sdxl', request(dir, { prompt: '[exit]' }), () => {}));
    expect(s.status()[0]).toMatchObject({ crashes: 1 });
    expect(s.status()[0]!.lastCrash).toContain('exit code 7');
    expectDone(await s.run('sdxl', request(dir), () => {}));
    expectFailed(await s.run('sdxl', request(dir, { prompt: '[exit]' }), () => {}));
    expect(s.status()[0]).toMatchObject({ crashes: 1, state: expect.not.stringMatching('gave-up') });
  });

  it('unload releases the ONNX sessions the worker holds; the next job loads them again', async () => {
    const dir = await tempDir();
    const modelDir = join(dir, 'model');
    const g = new GraphBuilder({ name: 'test-denoiser' });
    const latent = g.input('latent', 'float32', [1, 4, 'height', 'width']);
    g.output(g.op('Mul', [latent, g.float32([0.9], [])]), 'denoised', 'float32', [1, 4, 'height', 'width']);
    await saveModel(join(modelDir, 'model.onnx'), g.build());
    const s = supervisor();
    const recipe = (end: RunEnd) => expectDone(end).result.outputs[0]!.recipe;

    const first = expectDone(await s.run('sdxl', request(dir, {}, modelDir), () => {}));
    expect(first.result.provider).toBe('cpu');
    expect(first.result.outputs[0]!.recipe).toMatchObject({ freshLoad: true, sessionsAtStart: 0 });
    expect(first.result.timings['runMs']).toBeGreaterThan(0);

    expect(recipe(await s.run('sdxl', request(dir, {}, modelDir), () => {}))).toMatchObject({ freshLoad: false, sessionsAtStart: 1 });

    const pid = s.status()[0]!.pid;
    await s.unload('sdxl');
    expect(s.status()[0]).toMatchObject({ pid, state: 'idle' });

    expect(recipe(await s.run('sdxl', request(dir, {}, modelDir), () => {}))).toMatchObject({ freshLoad: true, sessionsAtStart: 0 });
    // A slot without a worker has nothing to release.
    await s.unload('never-used');
  });

  it('runs one job per slot and two slots at once', async () => {
    const dir = await tempDir();
    const s = supervisor();
    const a = s.run('sdxl', request(dir, { steps: 2 }), () => {});
    const b = s.run('wan', request(dir, { steps: 2 }), () => {});
    expect(() => s.run('sdxl', request(dir), () => {})).toThrow(/already running/);
    const [endA, endB] = await Promise.all([a, b]);
    expectDone(endA);
    expectDone(endB);
    const pids = s.status().map((w) => w.pid);
    expect(new Set(pids).size).toBe(2);
  });

  it('a worker that left after its idle timeout is replaced for the next job, not counted as a crash', async () => {
    const dir = await tempDir();
    const s = supervisor({ idleMs: 150 });
    const exited = new Promise<{ crashed: boolean; reason: string }>((resolve) => s.on('worker-exited', resolve));
    expectDone(await s.run('sdxl', request(dir), () => {}));
    expect(await exited).toMatchObject({ crashed: false, reason: 'idle' });
    expect(s.status()[0]).toMatchObject({ state: 'stopped', pid: null, crashes: 0 });
    expectDone(await s.run('sdxl', request(dir), () => {}));
  });

  it('a job stuck inside one long step is killed after the cancel grace and ends cancelled', async () => {
    const dir = await tempDir();
    const s = supervisor({ cancelGraceMs: 300 });
    const req = request(dir, { prompt: 'stuck [hang]', steps: 5 });
    const exits: { crashed: boolean }[] = [];
    s.on('worker-exited', (e) => exits.push(e));
    const end = await s.run('sdxl', req, (p) => {
      if (p.step === 1) s.cancel(req.jobId);
    });
    expect(end).toEqual({ kind: 'cancelled' });
    expect(exits).toEqual([expect.objectContaining({ crashed: false })]);
    expect(s.status()[0]).toMatchObject({ crashes: 0 });
  });

  it('close() ends a running job as worker_stopped (transient) and stops every worker', async () => {
    const dir = await tempDir();
    const s = new WorkerSupervisor({ pipelines: { test: TEST_PIPELINE }, idleMs: 0 });
    let closing: Promise<void> | null = null;
    const end = await s.run('sdxl', request(dir, { steps: 60, width: 1024, height: 1024 }), () => {
      closing ??= s.close();
    });
    await closing;
    expect(expectFailed(end)).toMatchObject({ code: 'worker_stopped', transient: true });
    expect(s.status()[0]).toMatchObject({ state: 'stopped', pid: null });
    expect(expectFailed(await s.run('sdxl', request(dir), () => {})).code).toBe('worker_stopped');
  });
});
