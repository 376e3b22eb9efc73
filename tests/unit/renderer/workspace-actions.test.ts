/**
 * The Workspace's actions against a fake engine: Generate sends the form, the engine's refusals land
 * at their field, Enhance shows a rewrite to accept or discard, finished jobs' images are read from
 * the library in batch order, Re-run asks for one image, and "use these settings" fills the form.
 */
import { describe, expect, it } from 'vitest';
import type { AssetDetail, EnhanceResult, GenerateRequest, JobView, StudioApi, WireError } from '../../../src-preload/contract/index.ts';
import { StudioApiError } from '../../../src-renderer/src/api/errors.ts';
import { createActions } from '../../../src-renderer/src/actions.ts';
import { createWorkspaceActions } from '../../../src-renderer/src/features/workspace/actions.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';
import { job, queued } from './jobs.ts';

interface Fake {
  enqueued: GenerateRequest[];
  enhance: (params: { prompt: string; type: string; seed?: number }) => Promise<EnhanceResult>;
  refuse: WireError | null;
  assets: Record<string, Partial<AssetDetail> | null>;
  gets: string[];
}

function setup() {
  const fake: Fake = {
    enqueued: [],
    enhance: async (p) => ({ original: p.prompt, text: `${p.prompt}, rewritten`, warning: null, model: 'qwen-tiny', ms: 5 }),
    refuse: null,
    assets: {},
    gets: [],
  };
  let n = 0;
  const api = {
    jobs: {
      enqueue: async ({ request }: { request: GenerateRequest }) => {
        if (fake.refuse) throw new StudioApiError(fake.refuse);
        fake.enqueued.push(request);
        n += 1;
        return job(`j${n}`, queued(n).status, { type: request.type, createdAt: 1000 + n });
      },
    },
    prompts: { enhance: (p: { prompt: string; type: string; seed?: number }) => fake.enhance(p) },
    library: {
      get: async ({ id }: { id: string }) => {
        fake.gets.push(id);
        const a = fake.assets[id];
        return a === null || a === undefined ? null : { id, ...a };
      },
    },
  } as unknown as StudioApi;
  const store = createStudioStore();
  const copied: string[] = [];
  const actions = createWorkspaceActions(api, store, createActions(api, store), { writeText: async (t) => void copied.push(t) });
  return { fake, store, actions, copied };
}

describe('Generate', () => {
  it('queues the form as typed and shows the new job first in the Workspace', async () => {
    const { fake, store, actions } = setup();
    store.getState().updateDraft({ prompt: 'a red fox in snow', seed: '42', steps: '4', width: '1216', height: '832' });
    await expect(actions.generate()).resolves.toBeNull();
    expect(fake.enqueued).toEqual([{ type: 'sdxl_image_fast', prompt: 'a red fox in snow', seed: 42, steps: 4, width: 1216, height: 832 }]);
    expect(store.getState().submitted).toEqual(['j1']);
  });

  it("sends nothing when the form's own check fails, and names the field", async () => {
    const { fake, store, actions } = setup();
    store.getState().updateDraft({ prompt: 'x', type: 'video_fast', frames: '20' });
    await expect(actions.generate()).resolves.toMatchObject({ field: 'frames' });
    expect(fake.enqueued).toEqual([]);
    expect(store.getState().liveErrors.frames).toBeTruthy();
    // Editing that field clears the error; editing another does not.
    store.getState().updateDraft({ prompt: 'y' });
    expect(store.getState().liveErrors.frames).toBeDefined();
    store.getState().updateDraft({ frames: '21' });
    expect(store.getState().liveErrors.frames).toBeUndefined();
  });

  it("puts the engine's refusal at the field it names", async () => {
    const { fake, store, actions } = setup();
    fake.refuse = { code: 'invalid_params', message: 'model not installed', field: 'request.model' };
    store.getState().updateDraft({ prompt: 'x' });
    await actions.generate();
    expect(store.getState().formError).toEqual({ field: 'model', message: 'model not installed' });
    fake.refuse = { code: 'invalid_params', message: 'width must be a multiple of 8', field: 'request.width' };
    await actions.generate();
    expect(store.getState().formError).toEqual({ field: 'width', message: 'width must be a multiple of 8' });
  });
});

describe('Enhance', () => {
  it('shows the rewrite to review, and queues the enhanced twin with it when accepted', async () => {
    const { fake, store, actions } = setup();
    store.getState().updateDraft({ prompt: 'paper boat', type: 'video_fast' });
    const pending = actions.enhance();
    expect(store.getState().enhancement).toMatchObject({ status: 'working', original: 'paper boat' });
    await pending;
    expect(store.getState().enhancement).toMatchObject({ status: 'ready', text: 'paper boat, rewritten', warning: null, model: 'qwen-tiny' });
    await actions.queueEnhanced('paper boat, rewritten and edited');
    expect(fake.enqueued).toEqual([{ type: 'video7b_fast_enhanced', prompt: 'paper boat', enhancedPrompt: 'paper boat, rewritten and edited' }]);
    expect(store.getState().enhancement).toBeNull();
  });

  it("keeps the enhancer's warning when it fell back to the original", async () => {
    const { fake, store, actions } = setup();
    fake.enhance = async (p) => ({ original: p.prompt, text: p.prompt, warning: 'the rewrite was a refusal, so the original is kept', model: 'q', ms: 1 });
    store.getState().updateDraft({ prompt: 'boat', type: 'image_fast' });
    await actions.enhance();
    expect(store.getState().enhancement).toMatchObject({ status: 'ready', text: 'boat', warning: 'the rewrite was a refusal, so the original is kept' });
  });

  it("says why when there is no enhancer, and a discard while waiting wins over a late answer", async () => {
    const { fake, store, actions } = setup();
    fake.enhance = async () => {
      throw new StudioApiError({ code: 'enhancer_not_installed', message: 'enhancer not installed: no Qwen model' });
    };
    store.getState().updateDraft({ prompt: 'boat' });
    await actions.enhance();
    expect(store.getState().enhancement).toMatchObject({ status: 'failed', message: 'enhancer not installed: no Qwen model' });

    let answer: (r: EnhanceResult) => void = () => undefined;
    fake.enhance = () => new Promise((resolve) => (answer = resolve));
    const pending = actions.enhance();
    actions.discardEnhancement();
    answer({ original: 'boat', text: 'late', warning: null, model: 'q', ms: 1 });
    await pending;
    expect(store.getState().enhancement).toBeNull();
  });

  it('can replace the prompt instead (the only choice for SDXL)', async () => {
    const { store, actions } = setup();
    store.getState().updateDraft({ prompt: 'fox' });
    await actions.enhance();
    actions.useEnhancedAsPrompt('fox, snow, golden hour');
    expect(store.getState().draft.prompt).toBe('fox, snow, golden hour');
    expect(store.getState().enhancement).toBeNull();
  });

  it('asks for a prompt first', async () => {
    const { store, actions } = setup();
    await actions.enhance();
    expect(store.getState().enhancement).toBeNull();
    expect(store.getState().formError).toMatchObject({ field: 'prompt' });
  });
});

describe('results', () => {
  const done = (assets: string[]): JobView => job('d', { state: 'done', at: 9, assets });

  it("reads a finished job's images once, in batch order, and counts any no longer in the library", async () => {
    const { fake, store, actions } = setup();
    fake.assets = { a: { batchIndex: 2 }, b: { batchIndex: 0 }, c: null, e: { batchIndex: 1 } };
    const j = done(['a', 'b', 'c', 'e']);
    await Promise.all([actions.loadJobAssets(j), actions.loadJobAssets(j)]);
    const loaded = store.getState().jobAssets.d;
    expect(loaded?.status === 'ready' && loaded.assets.map((a) => a.id)).toEqual(['b', 'e', 'a']);
    expect(loaded).toMatchObject({ missing: 1 });
    expect(fake.gets).toEqual(['a', 'b', 'c', 'e']);
  });

  it('re-runs one image alone with its place in the batch, as a new job', async () => {
    const { fake, store, actions } = setup();
    const j = done(['a']);
    await actions.rerun({ ...j, params: { ...j.params, seed: 77 } }, 4);
    expect(fake.enqueued).toMatchObject([{ seed: 77, count: 1, batchIndex: 4 }]);
    expect(store.getState().submitted).toEqual(['j1']);
  });

  it("puts a job's settings back into the form and switches to the Workspace", () => {
    const { store, actions } = setup();
    store.getState().navigate('library');
    const j = done([]);
    actions.useJobSettings({ ...j, params: { ...j.params, seed: 5, steps: 9 } });
    expect(store.getState().draft).toMatchObject({ prompt: 'prompt of d', seed: '5', steps: '9' });
    expect(store.getState().view).toBe('workspace');
  });

  it('copies a seed and says so', async () => {
    const { store, actions, copied } = setup();
    await actions.copySeed(1234);
    expect(copied).toEqual(['1234']);
    expect(store.getState().notices).toMatchObject([{ kind: 'info', title: 'Seed copied' }]);
  });
});

describe('applyRecipe (what the Library calls)', () => {
  it('fills the form, offers a reviewed rewrite again, and can leave the view as it is', () => {
    const store = createStudioStore();
    store.getState().navigate('library');
    store.getState().applyRecipe({ type: 'image7b_fast_enhanced', prompt: 'boat', enhancedPrompt: 'A boat at dawn…', seed: 3 }, { navigate: false });
    expect(store.getState().view).toBe('library');
    expect(store.getState().draft).toMatchObject({ type: 'image7b_fast_enhanced', prompt: 'boat', seed: '3' });
    expect(store.getState().enhancement).toMatchObject({ status: 'ready', text: 'A boat at dawn…', original: 'boat' });
    store.getState().applyRecipe({ prompt: 'fox' });
    expect(store.getState().view).toBe('workspace');
    expect(store.getState().enhancement).toBeNull();
  });
});
