/** A JobView with sensible defaults, for rendering and command tests. */
import type { JobView } from '../../../src-preload/contract/status.ts';

export function jobView(over: Partial<JobView> = {}): JobView {
  return {
    id: 'job-1',
    type: 'sdxl_image_fast',
    family: 'sdxl',
    params: {
      prompt: 'a red fox in the snow',
      negativePrompt: '',
      seed: 42,
      steps: 15,
      guidance: 7,
      width: 1024,
      height: 1024,
      frames: 1,
      count: 6,
      batchIndex: null,
      scheduler: 'euler',
      model: null,
      enhancedPrompt: null,
      fps: 16,
    },
    status: { state: 'queued', at: 0, notBefore: null, reason: null },
    attempts: 0,
    maxAttempts: 3,
    createdAt: 0,
    startedAt: null,
    finishedAt: null,
    position: 0,
    modelId: null,
    provider: null,
    providerNote: null,
    peakVramMb: null,
    idempotencyKey: null,
    enhancedPrompt: null,
    enhanceWarning: null,
    ...over,
  };
}
