/** The 'qwen' pipeline a worker loads, and the enhanced-job helper WAN calls in its own process. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_REPLY, buildQwenFixture, type QwenFixture } from '../../fixtures/qwen/build-qwen.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../src-preload/contract/catalog.ts';
import {
  QwenEnhancer,
  QwenPipeline,
  createPipeline,
  enhanceJobPrompt,
  isEnhancedJobType,
  targetForJobType,
} from '../../../src-main/engine/pipelines/qwen/index.ts';
import { PipelineError } from '../../../src-main/engine/pipelines/types.ts';
import type { ModelRef, PipelineContext, ProgressUpdate, RunRequest } from '../../../src-main/engine/pipelines/types.ts';
import { makeTempDir } from '../fixtures/ort-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let good: QwenFixture;
let refusal: QwenFixture;
const enhancers: QwenEnhancer[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('qwen-pipeline');
  good = await buildQwenFixture(join(tmp.dir, 'good'));
  refusal = await buildQwenFixture(join(tmp.dir, 'refusal'), { variant: 'refusal' });
});
afterAll(async () => {
  for (const e of enhancers) await e.unload();
  await tmp.cleanup();
});

function fresh(): QwenEnhancer {
  const e = new QwenEnhancer();
  enhancers.push(e);
  return e;
}

function qwen(dir: string): ModelRef {
  return { id: 'qwen2.5-tiny', family: 'qwen', path: dir };
}

function request(type: JobType, model: ModelRef, enhancer: ModelRef | null, extra: Record<string, unknown> = {}): RunRequest {
  const { params } = resolveRequest({ type, prompt: 'a fox in the snow', seed: 11, ...extra }, () => 0);
  return { jobId: `job-${type}`, jobType: type, params, model, enhancer, stagingDir: tmp.dir, maxBatch: 1, providers: ['cpu'] };
}

function context(signal = new AbortController().signal): PipelineContext & { updates: ProgressUpdate[]; logs: string[] } {
  const updates: ProgressUpdate[] = [];
  const logs: string[] = [];
  return { signal, updates, logs, progress: (u) => updates.push(u), log: (m) => logs.push(m) };
}

describe('job types', () => {
  it('map to the enhancement target and the enhanced flag', () => {
    expect(targetForJobType('sdxl_image_fast')).toBe('sdxl');
    expect(targetForJobType('sdxl_image_high')).toBe('sdxl');
    expect(targetForJobType('video_fast')).toBe('wan');
    expect(targetForJobType('image7b_high_enhanced')).toBe('wan');
    expect(isEnhancedJobType('video7b_fast_enhanced')).toBe(true);
    expect(isEnhancedJobType('video_fast')).toBe(false);
  });
});

describe('QwenPipeline', () => {
  it('is what the module gives a worker, for family qwen', () => {
    const p = createPipeline();
    expect(p).toBeInstanceOf(QwenPipeline);
    expect(p.family).toBe('qwen');
  });

  it('returns the rewrite for the job type, no outputs, timings and progress', async () => {
    const pipeline = new QwenPipeline(fresh());
    const ctx = context();
    const wan = await pipeline.run(request('video7b_fast_enhanced', qwen(good.dir), null), ctx);
    expect(wan.outputs).toEqual([]);
    expect(wan.enhancedPrompt).toBe(GOOD_REPLY);
    expect(wan.provider).toBe('cpu');
    expect(wan.providerNote).toBeNull();
    expect(wan.timings.enhanceTokens).toBeGreaterThan(0);
    expect(wan.timings.enhanceTokensPerSecond).toBeGreaterThan(0);
    expect(ctx.updates[0]).toEqual({ step: 0, of: 320, stage: 'loading prompt enhancer', preview: null });
    expect(ctx.updates.at(-1)?.stage).toBe('enhancing prompt');
    expect(ctx.updates.at(-1)?.step).toBeGreaterThan(0);
    expect(ctx.logs.join('\n')).toMatch(/prompt enhancer: \d+ tokens in \d+ ms/);
    const sdxl = await pipeline.run(request('sdxl_image_fast', qwen(good.dir), null), context());
    expect(sdxl.enhancedPrompt).toBe(GOOD_REPLY.replace(/\.$/, ''));
    await pipeline.unload();
  });

  it('keeps the original prompt and puts the warning in the provider note when the rewrite is unusable', async () => {
    const result = await new QwenPipeline(fresh()).run(request('image_fast', qwen(refusal.dir), null), context());
    expect(result.enhancedPrompt).toBe('a fox in the snow');
    expect(result.providerNote).toMatch(/^Prompt enhancement was not used because the model refused/);
  });
});

describe('enhanceJobPrompt', () => {
  const wan: ModelRef = { id: 'wan-1.3b', family: 'wan', path: '/nowhere' };

  it('uses a rewrite the user already reviewed without running the model', async () => {
    const e = fresh();
    const out = await enhanceJobPrompt(request('video7b_high_enhanced', wan, null, { enhancedPrompt: 'my reviewed rewrite' }), context(), { enhancer: e });
    expect(out).toEqual({ prompt: 'my reviewed rewrite', original: 'a fox in the snow', enhanced: 'my reviewed rewrite', warning: null, note: null, timings: {} });
    expect(e.loaded).toBeNull();
  });

  it('fails at once, saying so, when no enhancer model is installed', async () => {
    const err = await enhanceJobPrompt(request('image7b_fast_enhanced', wan, null), context(), { enhancer: fresh() }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).code).toBe('enhancer_missing');
    expect((err as PipelineError).message).toMatch(/no prompt-enhancer model is installed/);
  });

  it('enhances with the job enhancer and can release it before the job loads its own model', async () => {
    const e = fresh();
    const out = await enhanceJobPrompt(request('video7b_fast_enhanced', wan, qwen(good.dir)), context(), { enhancer: e, unloadAfter: true });
    expect(out.prompt).toBe(GOOD_REPLY);
    expect(out.enhanced).toBe(GOOD_REPLY);
    expect(out.warning).toBeNull();
    expect(out.timings.enhanceTokens).toBeGreaterThan(0);
    expect(e.loaded).toBeNull();
    const kept = await enhanceJobPrompt(request('video7b_fast_enhanced', wan, qwen(refusal.dir)), context(), { enhancer: e });
    expect(kept.prompt).toBe('a fox in the snow');
    expect(kept.enhanced).toBeNull();
    expect(kept.warning).toMatch(/the model refused/);
    expect(e.loaded).not.toBeNull();
  });
});
