/** Builders for JobView objects in renderer tests. */
import { PRESETS } from '../../../src-preload/contract/index.ts';
import type { JobStatus, JobView } from '../../../src-preload/contract/index.ts';

export function job(id: string, status: JobStatus, extra: Partial<JobView> = {}): JobView {
  const p = PRESETS.sdxl_image_fast;
  return {
    id,
    type: 'sdxl_image_fast',
    family: 'sdxl',
    params: {
      prompt: `prompt of ${id}`,
      negativePrompt: '',
      seed: 1,
      steps: p.steps,
      guidance: p.guidance,
      width: p.width,
      height: p.height,
      frames: 1,
      count: p.count,
      batchIndex: null,
      scheduler: p.scheduler,
      model: null,
      enhancedPrompt: null,
      fps: p.fps,
    },
    status,
    attempts: 0,
    maxAttempts: 3,
    createdAt: 1000,
    startedAt: null,
    finishedAt: null,
    position: status.state === 'queued' ? 0 : null,
    modelId: null,
    provider: null,
    providerNote: null,
    peakVramMb: null,
    idempotencyKey: null,
    enhancedPrompt: null,
    enhanceWarning: null,
    ...extra,
  };
}

export const queued = (at: number, position = 0) => ({ status: { state: 'queued', at, notBefore: null, reason: null } as const, position });
export const running = (at: number, step: number, of: number): JobStatus => ({ state: 'running', at, step, of, stage: null });
