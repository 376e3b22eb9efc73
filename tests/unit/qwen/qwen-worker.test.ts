/**
 * The qwen pipeline module in a real worker process (child_process.fork of worker-main.ts), loaded
 * by family as the engine will load it: a run returns the rewrite, cancel stops it between
 * tokens, a missing model fails in words, and unload is confirmed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSupervisor, type RunEnd } from '../../../src-main/engine/inference/supervisor.ts';
import type { ProgressUpdate, RunRequest } from '../../../src-main/engine/pipelines/types.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../src-preload/contract/catalog.ts';
import { GOOD_REPLY, buildQwenFixture } from '../../fixtures/qwen/build-qwen.ts';

const QWEN_PIPELINE = fileURLToPath(new URL('../../../src-main/engine/pipelines/qwen/index.ts', import.meta.url));

let dir: string;
let good: string;
let endless: string;
let supervisor: WorkerSupervisor;
let jobs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ourvidz-qwen-worker-'));
  good = (await buildQwenFixture(join(dir, 'good'))).dir;
  endless = (await buildQwenFixture(join(dir, 'rambling'), { variant: 'rambling' })).dir;
  supervisor = new WorkerSupervisor({ pipelines: { qwen: QWEN_PIPELINE }, idleMs: 0 });
});
afterAll(async () => {
  await supervisor.close();
  await rm(dir, { recursive: true, force: true });
});

function request(type: JobType, modelPath: string): RunRequest {
  const { params } = resolveRequest({ type, prompt: 'a fox in the snow', seed: 3 }, () => 0);
  const jobId = `qwen-job-${++jobs}`;
  return { jobId, jobType: type, params, model: { id: 'qwen', family: 'qwen', path: modelPath }, enhancer: null, stagingDir: join(dir, jobId), maxBatch: 1, providers: ['cpu'] };
}

describe('qwen pipeline in a worker process', () => {
  it('returns the rewrite with progress, then unloads on request', async () => {
    const progress: ProgressUpdate[] = [];
    const end: RunEnd = await supervisor.run('enhancer', request('video7b_fast_enhanced', good), (p) => progress.push(p));
    if (end.kind !== 'done') throw new Error(`expected done, got ${JSON.stringify(end)}`);
    expect(end.result.enhancedPrompt).toBe(GOOD_REPLY);
    expect(end.result.outputs).toEqual([]);
    expect(end.result.provider).toBe('cpu');
    expect(progress.some((p) => p.stage === 'enhancing prompt')).toBe(true);
    await supervisor.unload('enhancer');
    const again = await supervisor.run('enhancer', request('sdxl_image_fast', good), () => {});
    expect(again.kind === 'done' && again.result.enhancedPrompt).toBe(GOOD_REPLY.replace(/\.$/, ''));
  });

  it('stops between tokens when the job is cancelled', async () => {
    const req = request('video7b_high_enhanced', endless);
    let cancelledAt = -1;
    const end = await supervisor.run('enhancer', req, (p) => {
      if (cancelledAt < 0 && p.stage === 'enhancing prompt' && p.step > 0) {
        cancelledAt = p.step;
        supervisor.cancel(req.jobId);
      }
    });
    expect(end).toEqual({ kind: 'cancelled' });
    expect(cancelledAt).toBeGreaterThan(0);
  });

  it('fails in words when the model folder is not a Qwen export', async () => {
    const end = await supervisor.run('enhancer', request('image7b_fast_enhanced', join(dir, 'nothing-here')), () => {});
    if (end.kind !== 'failed') throw new Error(`expected failed, got ${JSON.stringify(end)}`);
    expect(end.code).toBe('model_invalid');
    expect(end.message).toMatch(/config\.json is missing/);
    expect(end.transient).toBe(false);
  });
});
