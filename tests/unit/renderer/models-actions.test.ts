/**
 * Models actions against a stand-in engine: Add passes only what was chosen, Try again re-runs the
 * same file, VAE and name and replaces the old card, one click prepares a folder's checkpoint, and
 * a refusal the view cannot show in place becomes a toast with the engine's sentence.
 */
import { describe, expect, it } from 'vitest';
import type { ModelInfo, Preparation, StudioApi } from '../../../src-preload/contract/index.ts';
import { StudioApiError } from '../../../src-renderer/src/api/errors.ts';
import { createModelsActions } from '../../../src-renderer/src/features/models/actions.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';

function prep(id: string, patch: Partial<Preparation> = {}): Preparation {
  return {
    id,
    source: '/mnt/sd/tinyXL.safetensors',
    vae: null,
    name: 'tinyXL',
    description: null,
    state: 'preparing',
    phase: 'checking',
    fraction: 0,
    bytesDone: 0,
    bytesTotal: 0,
    etaSeconds: null,
    modelId: null,
    reused: false,
    error: null,
    startedAt: 1,
    finishedAt: null,
    ...patch,
  };
}

function fakeApi(answer: (params: unknown) => Preparation | Error) {
  const added: unknown[] = [];
  const cancelled: string[] = [];
  const api = {
    models: {
      add: async (params: unknown) => {
        added.push(params);
        const a = answer(params);
        if (a instanceof Error) throw a;
        return a;
      },
      inspect: async () => {
        throw new StudioApiError({ code: 'invalid_params', message: 'choose a file or folder', field: 'path' });
      },
      cancelPreparation: async ({ id }: { id: string }) => {
        cancelled.push(id);
        return prep(id, { state: 'cancelled', phase: null, finishedAt: 2 });
      },
    },
  } as unknown as StudioApi;
  return { api, added, cancelled };
}

describe('models actions', () => {
  it('adds with only what was chosen, and records the preparation', async () => {
    const { api, added } = fakeApi(() => prep('p1'));
    const store = createStudioStore();
    const actions = createModelsActions(api, store);
    await expect(actions.add({ path: '/mnt/sd/tinyXL.safetensors', name: null, vae: null })).resolves.toEqual({ preparation: prep('p1') });
    await actions.add({ path: '/mnt/sd/novae.safetensors', name: 'No VAE', vae: '/mnt/sd/sdxl_vae.safetensors' });
    expect(added).toEqual([{ path: '/mnt/sd/tinyXL.safetensors' }, { path: '/mnt/sd/novae.safetensors', name: 'No VAE', vae: '/mnt/sd/sdxl_vae.safetensors' }]);
    expect(store.getState().preparations.p1?.state).toBe('preparing');
  });

  it('tries a failed preparation again with the same file, VAE and name, and closes the old card', async () => {
    const { api, added } = fakeApi(() => prep('p2'));
    const store = createStudioStore();
    const failed = prep('p1', { state: 'failed', vae: '/v.safetensors', name: 'Tiny XL', error: { code: 'prepare_failed', message: 'x' }, finishedAt: 3 });
    store.getState().upsertPreparations([failed]);
    await createModelsActions(api, store).retry(failed);
    expect(added).toEqual([{ path: '/mnt/sd/tinyXL.safetensors', vae: '/v.safetensors', name: 'Tiny XL' }]);
    expect(store.getState().dismissedPreparations).toEqual(['p1']);
    expect(store.getState().preparations.p2?.state).toBe('preparing');
  });

  it("adds a WAN model's parts together, and tries them again together", async () => {
    const { api, added } = fakeApi(() => prep('p2'));
    const store = createStudioStore();
    const actions = createModelsActions(api, store);
    const parts = ['/comfy/diffusion_models/wan.safetensors', '/comfy/text_encoders/umt5.safetensors', '/comfy/vae/wan_2.1_vae.safetensors'];
    await actions.add({ path: parts[0]!, paths: parts, name: 'WAN' });
    const failed = prep('p1', { source: parts[0]!, sources: parts, name: 'WAN', state: 'failed', error: { code: 'prepare_failed', message: 'x' }, finishedAt: 3 });
    store.getState().upsertPreparations([failed]);
    await actions.retry(failed);
    expect(added).toEqual([
      { path: parts[0], paths: parts, name: 'WAN' },
      { path: parts[0], paths: parts, name: 'WAN' },
    ]);
  });

  it('prepares a checkpoint found in a model folder in one click, by its path', async () => {
    const { api, added } = fakeApi(() => prep('p1'));
    const store = createStudioStore();
    const row: ModelInfo = { id: 'checkpoint:tinyXL.safetensors', family: 'sdxl', name: 'tinyXL', path: '/mnt/sd/tinyXL.safetensors', sizeBytes: 1, precision: 'fp16', status: 'needs_preparation', problems: [] };
    await createModelsActions(api, store).prepare(row);
    expect(added).toEqual([{ path: '/mnt/sd/tinyXL.safetensors' }]);
  });

  it('shows a refused one-click prepare as a toast naming the model, and hands inspect refusals back', async () => {
    const { api } = fakeApi(() => new StudioApiError({ code: 'busy', message: 'the studio is closing' }));
    const store = createStudioStore();
    const actions = createModelsActions(api, store);
    const row: ModelInfo = { id: 'c', family: 'sdxl', name: 'tinyXL', path: '/p', sizeBytes: 1, precision: 'fp16', status: 'needs_preparation', problems: [] };
    await actions.prepare(row);
    expect(store.getState().notices).toEqual([expect.objectContaining({ kind: 'error', title: 'Could not prepare tinyXL', message: 'the studio is closing' })]);
    await expect(actions.inspect('')).resolves.toEqual({ error: { code: 'invalid_params', message: 'choose a file or folder', field: 'path' } });
  });

  it('cancels and records the cancelled state', async () => {
    const { api, cancelled } = fakeApi(() => prep('p1'));
    const store = createStudioStore();
    store.getState().upsertPreparations([prep('p1', { fraction: 0.3 })]);
    await createModelsActions(api, store).cancel('p1');
    expect(cancelled).toEqual(['p1']);
    expect(store.getState().preparations.p1?.state).toBe('cancelled');
  });
});
