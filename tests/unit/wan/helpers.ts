/** Shared set-up for the WAN tests: fixture folders built once per file, a fake pipeline context. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobParams, JobType } from '../../../src-preload/contract/catalog.ts';
import type { PipelineContext, ProgressUpdate, RunRequest } from '../../../src-main/engine/pipelines/types.ts';

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `ourvidz-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function wanParams(overrides: Partial<JobParams> = {}): JobParams {
  return {
    prompt: 'A cat walks on the grass, realistic',
    negativePrompt: 'blurred details, static',
    seed: 42,
    steps: 3,
    guidance: 5,
    width: 64,
    height: 64,
    frames: 1,
    count: 1,
    batchIndex: null,
    scheduler: 'unipc',
    model: null,
    enhancedPrompt: null,
    fps: 16,
    ...overrides,
  };
}

export function wanRequest(modelPath: string, stagingDir: string, params: JobParams, jobType?: JobType): RunRequest {
  return {
    jobId: 'job-1',
    jobType: jobType ?? (params.frames > 1 ? 'video_fast' : 'image_fast'),
    params,
    model: { id: 'wan-tiny', family: 'wan', path: modelPath },
    enhancer: null,
    stagingDir,
    maxBatch: 1,
    providers: ['cpu'],
  };
}

export interface FakeContext extends PipelineContext {
  readonly updates: ProgressUpdate[];
  readonly controller: AbortController;
}

/** A context that records progress and can cancel when an update matches `cancelWhen`. */
export function fakeContext(cancelWhen?: (u: ProgressUpdate) => boolean): FakeContext {
  const controller = new AbortController();
  const updates: ProgressUpdate[] = [];
  return {
    signal: controller.signal,
    controller,
    updates,
    progress(u) {
      updates.push(u);
      if (cancelWhen?.(u)) controller.abort();
    },
    log() {},
  };
}
