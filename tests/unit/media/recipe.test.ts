/**
 * The shareable recipe: every field a picture needs to be made again, nothing about the machine,
 * built by allow-list so a field added to a job later stays out; and the same shape rebuilt from
 * any recipe an older version stored (with the model's path, provider note, timings and params).
 */
import { describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { samplerLabels, shareableFromStored, shareableRecipe } from '../../../src-main/engine/media/recipe.ts';
import type { RecipeRow } from '../../../src-main/engine/media/recipe.ts';

const HOME = '/home/ada/.local/share/OurVidz Studio';
const params = {
  prompt: 'a lighthouse at dusk',
  negativePrompt: 'blurry',
  seed: 42,
  steps: 15,
  guidance: 7,
  width: 1024,
  height: 1024,
  frames: 1,
  count: 6,
  batchIndex: null,
  scheduler: 'dpmpp_2m',
  model: 'tiny-xl',
  enhancedPrompt: null,
  fps: 16,
};

/** Every absolute path and machine word a recipe must not carry. */
function expectClean(recipe: unknown): void {
  const json = JSON.stringify(recipe);
  for (const secret of ['/home/', HOME, 'model.onnx', 'providerNote', '"provider"', 'timings', 'Ms"', '"params"', '/dev/']) expect(json).not.toContain(secret);
}

const row: RecipeRow = {
  job_id: 'job-1',
  bucket: 'sdxl_image_fast',
  prompt: 'from the row',
  negative_prompt: '',
  enhanced_prompt: null,
  seed: 1,
  model: 'row-model',
  steps: 3,
  guidance: 5,
  scheduler: 'euler',
  batch_index: 0,
  width: 512,
  height: 512,
  fps: null,
  frame_count: null,
};

describe('shareableRecipe', () => {
  it('names the model by name and hash, with every field to make the picture again and nothing else', () => {
    const job = {
      jobId: 'job-1',
      jobType: 'sdxl_image_fast',
      // A model reference as the worker gets it: with the folder's absolute path.
      model: { id: 'tiny-xl', name: 'Tiny XL', hash: '0123456789', family: 'sdxl', path: `${HOME}/models/prepared/tiny-xl` },
      // A field a later version adds to jobs (here, a path) must not reach the file.
      params: { ...params, outputFolder: `${HOME}/exports` },
    };
    const recipe = shareableRecipe(job, { batchIndex: 2, noiseBatch: 6, schedulerNotes: ['scheduler_config.json sets solver_order 3, which the studio does not reproduce'] });
    expect(recipe).toEqual({
      app: 'OurVidz Studio',
      appVersion: pkg.version,
      jobId: 'job-1',
      jobType: 'sdxl_image_fast',
      model: { id: 'tiny-xl', name: 'Tiny XL', hash: '0123456789', family: 'sdxl' },
      prompt: 'a lighthouse at dusk',
      enhancedPrompt: null,
      negativePrompt: 'blurry',
      seed: 42,
      batchIndex: 2,
      count: 6,
      noise: { kind: 'torch.randn', device: 'cpu', dtype: 'float32', batch: 6 },
      steps: 15,
      guidance: 7,
      scheduler: 'dpmpp_2m',
      sampler: 'DPM++ 2M',
      scheduleType: 'Uniform',
      width: 1024,
      height: 1024,
      frames: 1,
      fps: null,
      schedulerNotes: ['scheduler_config.json sets solver_order 3, which the studio does not reproduce'],
    });
    expectClean(recipe);
  });

  it('a WAN video: the prompt the model saw and the user’s, frames and fps, flow shift', () => {
    const recipe = shareableRecipe(
      { jobId: 'j', jobType: 'video7b_fast_enhanced', model: { id: 'wan', family: 'wan' }, params: { ...params, scheduler: 'unipc', frames: 17, count: 1, enhancedPrompt: 'A cat walks' } },
      { flowShift: 3, promptTokens: 4, promptTruncated: false },
    );
    expect(recipe).toMatchObject({ prompt: 'A cat walks', originalPrompt: 'a lighthouse at dusk', enhancedPrompt: 'A cat walks', frames: 17, fps: 16, flowShift: 3, sampler: 'UniPC', scheduleType: null, model: { name: 'wan', hash: null } });
  });

  it('names every sampler’s schedule explicitly', () => {
    expect(samplerLabels('euler')).toEqual({ sampler: 'Euler', scheduleType: 'Uniform' });
    expect(samplerLabels('dpmpp_2m_karras')).toEqual({ sampler: 'DPM++ 2M', scheduleType: 'Karras' });
    expect(samplerLabels('flow_euler')).toEqual({ sampler: 'Flow Euler', scheduleType: null });
    expect(samplerLabels('toString')).toEqual({ sampler: null, scheduleType: null });
  });
});

describe('shareableFromStored', () => {
  it('rebuilds a recipe stored by an older version without its path, provider, note, timings or params', () => {
    const legacy = {
      app: 'OurVidz Studio',
      appVersion: '0.0.9',
      jobId: 'job-1',
      jobType: 'image_fast',
      model: { id: 'wan-1.3b', family: 'wan', transformer: `${HOME}/models/wan-1.3b/transformer/model.onnx` },
      provider: 'cuda',
      providerNote: 'CUDA skipped: libcudnn.so.9 not found in /usr/lib/x86_64-linux-gnu; /dev/nvidia0 busy',
      prompt: 'A cat on a wall',
      originalPrompt: 'cat',
      enhancedPrompt: 'A cat on a wall',
      negativePrompt: 'blur',
      promptTokens: 6,
      promptTruncated: false,
      seed: 7,
      noise: { kind: 'torch.randn', device: 'cpu', dtype: 'float32' },
      steps: 4,
      guidance: 5,
      scheduler: 'unipc',
      flowShift: 3,
      width: 480,
      height: 832,
      frames: 1,
      fps: 16,
      params: { ...params, outputs: `${HOME}/staging` },
      timings: { wallMs: 1000, sessionRunMs: 900, vaeDecodePeakRssMb: 2048 },
      vaeDecode: { mode: 'cached', note: null },
    };
    const shared = shareableFromStored(legacy, { ...row, bucket: 'image_fast' });
    expectClean(shared);
    expect(shared).toMatchObject({
      appVersion: '0.0.9',
      jobType: 'image_fast',
      model: { id: 'wan-1.3b', name: 'wan-1.3b', hash: null, family: 'wan' },
      prompt: 'A cat on a wall',
      originalPrompt: 'cat',
      negativePrompt: 'blur',
      seed: 7,
      steps: 4,
      guidance: 5,
      scheduler: 'unipc',
      flowShift: 3,
      promptTokens: 6,
      width: 480,
      height: 832,
      count: 6,
    });
  });

  it('falls back on the row’s columns for what a recipe lacks', () => {
    expect(shareableFromStored({}, row)).toMatchObject({ jobId: 'job-1', jobType: 'sdxl_image_fast', prompt: 'from the row', seed: 1, steps: 3, model: { id: 'row-model' }, sampler: 'Euler' });
  });

  it('keeps what another tool wrote into its file, not where or when it was imported from', () => {
    const imported = {
      imported: { from: '/home/ada/Downloads/comfy/ComfyUI_0001.png', format: 'png', tool: 'comfyui', at: 1, fileModifiedAt: 2 },
      settings: { prompt: 'a cat', seed: 3 },
      metadata: { prompt: '{"3":{}}' },
    };
    const shared = shareableFromStored(imported, { ...row, job_id: null, bucket: 'user_uploads' });
    expect(shared).toEqual({ imported: { format: 'png', tool: 'comfyui' }, settings: { prompt: 'a cat', seed: 3 }, metadata: { prompt: '{"3":{}}' } });
  });
});
