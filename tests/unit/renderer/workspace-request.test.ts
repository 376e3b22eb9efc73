/**
 * The Workspace form ↔ requests: what is sent for what is typed, mistakes named at their field with
 * the engine's own rules, and the requests behind Re-run, the accepted Enhance rewrite and
 * "use these settings".
 */
import { describe, expect, it } from 'vitest';
import type { AssetView } from '../../../src-preload/contract/index.ts';
import {
  draftForType,
  draftFromRecipe,
  draftToRequest,
  enhancedRequest,
  recipeFromAsset,
  recipeFromJob,
  rerunRequest,
} from '../../../src-renderer/src/features/workspace/request.ts';
import type { WorkspaceDraft } from '../../../src-renderer/src/features/workspace/store.ts';
import { job } from './jobs.ts';

const draft = (patch: Partial<WorkspaceDraft> = {}): WorkspaceDraft => ({
  type: 'sdxl_image_fast',
  prompt: 'a red fox in snow',
  negativePrompt: '',
  seed: '',
  steps: '',
  guidance: '',
  sampler: '',
  width: '',
  height: '',
  frames: '',
  model: '',
  count: '',
  runs: '',
  xParam: '',
  xValues: '',
  yParam: '',
  yValues: '',
  ...patch,
});

describe('Workspace form → request', () => {
  it('leaves everything not typed to the engine (random seed, the preset for the rest)', () => {
    expect(draftToRequest(draft())).toEqual({ request: { type: 'sdxl_image_fast', prompt: 'a red fox in snow' } });
  });

  it('sends what is typed, as numbers', () => {
    const built = draftToRequest(
      draft({ seed: ' 42 ', steps: '4', negativePrompt: 'blurry', guidance: '5.5', sampler: 'dpmpp_2m_karras', width: '1216', height: '832' }),
    );
    expect(built).toEqual({
      request: {
        type: 'sdxl_image_fast',
        prompt: 'a red fox in snow',
        negativePrompt: 'blurry',
        seed: 42,
        steps: 4,
        guidance: 5.5,
        width: 1216,
        height: 832,
        scheduler: 'dpmpp_2m_karras',
      },
    });
  });

  it("sends the model picked for the family, and none for the default (the engine's first ready one)", () => {
    expect(draftToRequest(draft({ model: 'tiny-xl-v1.0' }))).toEqual({
      request: { type: 'sdxl_image_fast', prompt: 'a red fox in snow', model: 'tiny-xl-v1.0' },
    });
    expect(draftToRequest(draft({ model: '' }))).toEqual({ request: { type: 'sdxl_image_fast', prompt: 'a red fox in snow' } });
  });

  it('sends frames only for video types', () => {
    expect(draftToRequest(draft({ frames: '33' }))).toEqual({ request: { type: 'sdxl_image_fast', prompt: 'a red fox in snow' } });
    expect(draftToRequest(draft({ type: 'video_fast', frames: '33' }))).toEqual({
      request: { type: 'video_fast', prompt: 'a red fox in snow', frames: 33 },
    });
  });

  it('names the field and its range when a value is out of bounds', () => {
    expect(draftToRequest(draft({ prompt: '   ' }))).toEqual({ error: { field: 'prompt', message: 'prompt must not be empty' } });
    const steps = draftToRequest(draft({ steps: '500' }));
    expect(steps).toMatchObject({ error: { field: 'steps' } });
    expect('error' in steps && steps.error.message).toContain('1 to 150');
    expect(draftToRequest(draft({ seed: 'abc' }))).toMatchObject({ error: { field: 'seed' } });
    expect(draftToRequest(draft({ guidance: '31' }))).toMatchObject({ error: { field: 'guidance' } });
  });

  it("applies the engine's cross-field rules before sending: size multiples, 4k+1 frames, the family's samplers", () => {
    const width = draftToRequest(draft({ width: '1001', height: '1024' }));
    expect(width).toMatchObject({ error: { field: 'width' } });
    expect('error' in width && width.error.message).toContain('multiple of 8');
    expect(draftToRequest(draft({ type: 'image_fast', width: '488', height: '832' }))).toMatchObject({ error: { field: 'width' } });
    const frames = draftToRequest(draft({ type: 'video_high', frames: '18' }));
    expect(frames).toMatchObject({ error: { field: 'frames' } });
    expect('error' in frames && frames.error.message).toContain('4k+1');
    expect(draftToRequest(draft({ sampler: 'unipc' }))).toMatchObject({ error: { field: 'scheduler' } });
  });
});

describe('the accepted Enhance rewrite', () => {
  it('queues the enhanced twin of a WAN type with the reviewed text, keeping the original prompt', () => {
    expect(enhancedRequest(draft({ type: 'video_fast', seed: '7' }), 'A paper boat, slow dolly shot')).toEqual({
      request: { type: 'video7b_fast_enhanced', prompt: 'a red fox in snow', seed: 7, enhancedPrompt: 'A paper boat, slow dolly shot' },
    });
    expect(enhancedRequest(draft({ type: 'image7b_high_enhanced' }), 'x')).toMatchObject({ request: { type: 'image7b_high_enhanced' } });
  });

  it('has no enhanced type to queue for SDXL (the rewrite can only replace the prompt there)', () => {
    expect(enhancedRequest(draft({ type: 'sdxl_image_high' }), 'tags, tags')).toBeNull();
  });

  it('refuses an empty rewrite at the Enhance box', () => {
    expect(enhancedRequest(draft({ type: 'image_fast' }), '   ')).toMatchObject({ error: { field: 'enhancement' } });
  });
});

describe('Re-run one image', () => {
  it("is the job's exact settings with one image at that image's place in the seed's batch", () => {
    const j = job('a', { state: 'done', at: 5, assets: ['x'] });
    const p = { ...j.params, seed: 1234, steps: 4, negativePrompt: 'blurry', scheduler: 'dpmpp_2m' as const };
    expect(rerunRequest({ ...j, params: p }, 3)).toEqual({
      type: 'sdxl_image_fast',
      prompt: 'prompt of a',
      negativePrompt: 'blurry',
      seed: 1234,
      steps: 4,
      guidance: 7,
      width: 1024,
      height: 1024,
      scheduler: 'dpmpp_2m',
      count: 1,
      batchIndex: 3,
    });
  });
});

describe('settings back into the form', () => {
  it("fills a job's settings, leaving values equal to the preset empty and always locking the seed", () => {
    const j = job('a', { state: 'done', at: 5, assets: [] });
    const recipe = recipeFromJob({ ...j, params: { ...j.params, seed: 99, steps: 4, width: 1216, height: 832, scheduler: 'euler' } });
    const { draft: filled, enhancedPrompt } = draftFromRecipe(draft({ prompt: 'old', negativePrompt: 'old negative' }), recipe);
    expect(filled).toEqual({
      type: 'sdxl_image_fast',
      prompt: 'prompt of a',
      negativePrompt: '',
      seed: '99',
      steps: '4',
      guidance: '',
      sampler: '',
      width: '1216',
      height: '832',
      frames: '',
      model: '',
      count: '',
      runs: '',
      xParam: '',
      xValues: '',
      yParam: '',
      yValues: '',
    });
    expect(enhancedPrompt).toBeNull();
  });

  it("reads a library asset's recipe, ignoring a sampler name the family does not have", () => {
    const asset = {
      kind: 'video',
      jobType: 'video7b_fast_enhanced',
      prompt: 'boat',
      negativePrompt: null,
      enhancedPrompt: 'A small paper boat drifting…',
      seed: 5,
      steps: 6,
      guidance: 5,
      scheduler: 'DPM++ 2M Karras',
      width: 480,
      height: 832,
      frameCount: 33,
    } as unknown as AssetView;
    const { draft: filled, enhancedPrompt } = draftFromRecipe(draft(), recipeFromAsset(asset));
    expect(filled).toMatchObject({ type: 'video7b_fast_enhanced', prompt: 'boat', seed: '5', steps: '6', sampler: '', width: '', frames: '33' });
    expect(enhancedPrompt).toBe('A small paper boat drifting…');
  });

  it("puts a job's model back into the picker (Use settings), and the default for a job that used it", () => {
    const j = job('a', { state: 'done', at: 5, assets: [] });
    expect(draftFromRecipe(draft(), recipeFromJob({ ...j, params: { ...j.params, model: 'tiny-xl-v1.0' } })).draft.model).toBe('tiny-xl-v1.0');
    expect(draftFromRecipe(draft({ model: 'other' }), recipeFromJob(j)).draft.model).toBe('');
  });

  it('keeps the current job type when the recipe has none (an imported file)', () => {
    const { draft: filled } = draftFromRecipe(draft({ type: 'sdxl_image_high' }), { prompt: 'imported', seed: 1, width: 832, height: 1216 });
    expect(filled).toMatchObject({ type: 'sdxl_image_high', prompt: 'imported', width: '832', height: '1216' });
  });
});

describe('switching job type', () => {
  it('lets the new preset decide steps; keeps size, guidance and sampler within a family', () => {
    const d = draft({ steps: '4', guidance: '6', sampler: 'euler_karras', width: '1216', height: '832' });
    expect(draftForType(d, 'sdxl_image_high')).toMatchObject({ type: 'sdxl_image_high', steps: '', guidance: '6', sampler: 'euler_karras', width: '1216' });
  });

  it('resets size and sampler across families and frames across kinds', () => {
    const d = draft({ type: 'video_fast', frames: '33', width: '832', height: '480', sampler: 'flow_euler' });
    expect(draftForType(d, 'video_high')).toMatchObject({ frames: '33', width: '832', sampler: 'flow_euler' });
    expect(draftForType(d, 'image_fast')).toMatchObject({ frames: '', width: '832' });
    expect(draftForType(d, 'sdxl_image_fast')).toMatchObject({ frames: '', width: '', height: '', sampler: '' });
  });

  it('keeps the picked model within a family and goes back to the default across families', () => {
    const d = draft({ model: 'tiny-xl-v1.0' });
    expect(draftForType(d, 'sdxl_image_high').model).toBe('tiny-xl-v1.0');
    expect(draftForType(d, 'image_fast').model).toBe('');
  });
});
