/**
 * The qwen pipeline module with a GGUF model in a real worker process, as the scheduler drives
 * it: a video job's rewrite comes back from llama.cpp with its figures, the scheduler's unload
 * (eviction under the VRAM budget) frees the model so the next run loads it again, and cancel
 * stops it between tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSupervisor } from '../../../src-main/engine/inference/supervisor.ts';
import type { RunRequest } from '../../../src-main/engine/pipelines/types.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../src-preload/contract/catalog.ts';
import { writeQwenGguf } from '../../fixtures/qwen/gguf-writer.ts';

const QWEN_PIPELINE = fileURLToPath(new URL('../../../src-main/engine/pipelines/qwen/index.ts', import.meta.url));

let dir: string;
let gguf: string;
let supervisor: WorkerSupervisor;
let jobs = 0;
const threadsBefore = process.env.STUDIO_LLAMA_THREADS;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qwen-worker-gguf-'));
  gguf = join(dir, 'Qwen2.5-Tiny-Instruct-F16.gguf');
  writeQwenGguf(gguf);
  // The worker inherits it: one llama.cpp thread on a shared test machine.
  process.env.STUDIO_LLAMA_THREADS = '1';
  supervisor = new WorkerSupervisor({ pipelines: { qwen: QWEN_PIPELINE }, idleMs: 0 });
});
afterAll(async () => {
  await supervisor.close();
  if (threadsBefore === undefined) delete process.env.STUDIO_LLAMA_THREADS;
  else process.env.STUDIO_LLAMA_THREADS = threadsBefore;
  rmSync(dir, { recursive: true, force: true });
});

function request(type: JobType): RunRequest {
  const { params } = resolveRequest({ type, prompt: 'a fox in the snow', seed: 3 }, () => 0);
  const jobId = `qwen-gguf-job-${++jobs}`;
  return { jobId, jobType: type, params, model: { id: 'qwen', family: 'qwen', path: gguf }, enhancer: null, stagingDir: join(dir, jobId), maxBatch: 1, providers: ['cpu'] };
}

describe('qwen pipeline with a GGUF in a worker process', () => {
  it('returns the rewrite from llama.cpp, and loads the model again after the scheduler unloads it', async () => {
    const first = await supervisor.run('enhancer', request('video7b_fast_enhanced'), () => {});
    if (first.kind !== 'done') throw new Error(`expected done, got ${JSON.stringify(first)}`);
    expect(first.result.provider).toBe('llama.cpp cpu');
    expect(first.result.enhancedPrompt).toMatch(/\w+ \w+ \w+/);
    expect(first.result.timings).toMatchObject({ enhanceLoadMs: expect.any(Number), enhanceTokens: expect.any(Number) });
    expect(first.result.timings!.enhanceLoadMs).toBeGreaterThan(0);
    const kept = await supervisor.run('enhancer', request('video7b_fast_enhanced'), () => {});
    expect(kept.kind === 'done' && kept.result.timings!.enhanceLoadMs).toBe(0);
    expect(kept.kind === 'done' && kept.result.enhancedPrompt).toBe(first.result.enhancedPrompt);
    await supervisor.unload('enhancer');
    const reloaded = await supervisor.run('enhancer', request('video7b_fast_enhanced'), () => {});
    expect(reloaded.kind === 'done' && reloaded.result.timings!.enhanceLoadMs).toBeGreaterThan(0);
    expect(reloaded.kind === 'done' && reloaded.result.enhancedPrompt).toBe(first.result.enhancedPrompt);
  });

  it('stops between tokens when the job is cancelled', async () => {
    const req = request('video7b_high_enhanced');
    let cancelled = false;
    const end = await supervisor.run('enhancer', req, (p) => {
      if (!cancelled && p.stage === 'enhancing prompt' && p.step > 0) {
        cancelled = true;
        supervisor.cancel(req.jobId);
      }
    });
    expect(end).toEqual({ kind: 'cancelled' });
  });
});
