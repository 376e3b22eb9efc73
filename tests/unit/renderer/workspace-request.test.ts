import { describe, expect, it } from 'vitest';
import { draftToRequest } from '../../../src-renderer/src/features/workspace/request.ts';
import type { WorkspaceDraft } from '../../../src-renderer/src/features/workspace/store.ts';

const draft = (patch: Partial<WorkspaceDraft>): WorkspaceDraft => ({
  type: 'sdxl_image_fast',
  prompt: 'a red fox in snow',
  negativePrompt: '',
  seed: '',
  steps: '',
  ...patch,
});

describe('Workspace form → request', () => {
  it('leaves empty seed and steps to the engine (random seed, preset steps)', () => {
    expect(draftToRequest(draft({}))).toEqual({ request: { type: 'sdxl_image_fast', prompt: 'a red fox in snow' } });
  });

  it('sends typed numbers and a negative prompt', () => {
    expect(draftToRequest(draft({ seed: ' 42 ', steps: '4', negativePrompt: 'blurry' }))).toEqual({
      request: { type: 'sdxl_image_fast', prompt: 'a red fox in snow', negativePrompt: 'blurry', seed: 42, steps: 4 },
    });
  });

  it('names the field and its range when a value is wrong', () => {
    expect(draftToRequest(draft({ prompt: '   ' }))).toEqual({ error: { field: 'prompt', message: 'prompt must not be empty' } });
    const steps = draftToRequest(draft({ steps: '500' }));
    expect(steps).toMatchObject({ error: { field: 'steps' } });
    expect('error' in steps && steps.error.message).toContain('1 to 150');
    expect(draftToRequest(draft({ seed: 'abc' }))).toMatchObject({ error: { field: 'seed' } });
  });
});
