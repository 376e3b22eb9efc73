/**
 * The Queue view's pure parts and its slice: where a drag or a key press puts a waiting job (as
 * `jobs.reorder` takes it), what Run again queues, what the header says about sharing the GPU, the
 * optimistic order and the cleared list — and the actions that tie them to the engine.
 */
import { describe, expect, it } from 'vitest';
import { GenerateRequestSchema } from '../../../src-preload/contract/index.ts';
import type { JobView, StudioApi } from '../../../src-preload/contract/index.ts';
import { createActions } from '../../../src-renderer/src/actions.ts';
import { StudioApiError } from '../../../src-renderer/src/api/errors.ts';
import { applyPlacement, keyPlacement, placementFor, runAgainRequest, sharingRule } from '../../../src-renderer/src/features/queue/logic.ts';
import { selectFinishedIds, selectQueuedIds } from '../../../src-renderer/src/features/queue/selectors.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';
import { job, queued } from './jobs.ts';

const ids = ['a', 'b', 'c', 'd'];

describe('placing a waiting job', () => {
  it('turns a drop slot into "ahead of" the job now there, or last', () => {
    expect(placementFor(ids, 3, 1)).toEqual({ id: 'd', before: 'b' });
    expect(placementFor(ids, 0, 2)).toEqual({ id: 'a', before: 'c' });
    expect(placementFor(ids, 0, 4)).toEqual({ id: 'a', before: null });
    expect(placementFor(ids, 1, 99)).toEqual({ id: 'b', before: null });
    // Dropped where it already is (its own slot or the one after it): no move.
    expect(placementFor(ids, 1, 1)).toBeNull();
    expect(placementFor(ids, 1, 2)).toBeNull();
  });

  it('moves one place up or down, or to the front or back, from the keyboard', () => {
    expect(keyPlacement(ids, 2, 'up')).toEqual({ id: 'c', before: 'b' });
    expect(keyPlacement(ids, 1, 'down')).toEqual({ id: 'b', before: 'd' });
    expect(keyPlacement(ids, 2, 'down')).toEqual({ id: 'c', before: null });
    expect(keyPlacement(ids, 2, 'first')).toEqual({ id: 'c', before: 'a' });
    expect(keyPlacement(ids, 1, 'last')).toEqual({ id: 'b', before: null });
    expect(keyPlacement(ids, 0, 'up')).toBeNull();
    expect(keyPlacement(ids, 3, 'down')).toBeNull();
  });

  it('predicts the order the engine will answer with', () => {
    for (const [from, to] of [[3, 1], [0, 2], [0, 4], [2, 0]] as const) {
      const p = placementFor(ids, from, to)!;
      const next = applyPlacement(ids, p);
      expect(next).toHaveLength(4);
      expect(next.indexOf(p.id)).toBe(to > from ? to - 1 : to);
    }
    expect(applyPlacement(ids, { id: 'd', before: 'b' })).toEqual(['a', 'd', 'b', 'c']);
    expect(applyPlacement(ids, { id: 'a', before: null })).toEqual(['b', 'c', 'd', 'a']);
  });
});

describe('Run again', () => {
  it('queues the same recipe, seed included, as a valid request', () => {
    const done = job('j', { state: 'done', at: 1, assets: ['x'] });
    const request = runAgainRequest({ ...done, params: { ...done.params, seed: 77, negativePrompt: 'blur', model: 'm1' } });
    expect(request).toMatchObject({ type: 'sdxl_image_fast', prompt: 'prompt of j', negativePrompt: 'blur', seed: 77, model: 'm1', count: 6 });
    expect(request).not.toHaveProperty('frames');
    expect(GenerateRequestSchema.safeParse(request).success).toBe(true);
  });

  it('keeps an enhanced job’s rewrite and a one-image re-run its batch index', () => {
    const base = job('v', { state: 'done', at: 1, assets: ['x'] });
    const video: JobView = { ...base, type: 'video7b_fast_enhanced', family: 'wan', enhancedPrompt: 'the rewrite', params: { ...base.params, frames: 17, count: 1 } };
    expect(runAgainRequest(video)).toMatchObject({ frames: 17, enhancedPrompt: 'the rewrite' });
    const one: JobView = { ...base, params: { ...base.params, count: 1, batchIndex: 3 } };
    expect(runAgainRequest(one)).toMatchObject({ count: 1, batchIndex: 3 });
    expect(GenerateRequestSchema.safeParse(runAgainRequest(video)).success).toBe(true);
  });
});

describe('the header', () => {
  it('says what the scheduler does: one SDXL and one WAN job together when both fit, never "one at a time"', () => {
    expect(sharingRule(20480)).toBe(
      'One SDXL and one WAN job can run at the same time when both fit the 20.0 GB VRAM budget; jobs of the same family run one after another.',
    );
    expect(sharingRule(null)).toContain('fit the VRAM budget');
    expect(sharingRule(8192)).not.toMatch(/one at a time/);
  });
});

describe('the queue slice', () => {
  it('shows a new order of waiting jobs at once and clears finished ones from the list only', () => {
    const store = createStudioStore();
    store.getState().upsertJobs([
      job('a', queued(1, 0).status, { position: 0 }),
      job('b', queued(2, 1).status, { position: 1 }),
      job('c', queued(3, 2).status, { position: 2 }),
      job('f', { state: 'done', at: 4, assets: [] }),
    ]);
    store.getState().showQueuedOrder(['c', 'a', 'b']);
    expect(selectQueuedIds(store.getState())).toEqual(['c', 'a', 'b']);
    store.getState().markCleared(['f']);
    expect(selectFinishedIds(store.getState())).toEqual([]);
    expect(store.getState().jobs.f).toBeDefined();
  });
});

describe('queue actions', () => {
  function engineApi(overrides: Record<string, unknown> = {}) {
    const calls: string[] = [];
    const api = {
      jobs: {
        reorder: async (p: { id: string; before: string | null }) => {
          calls.push(`reorder ${p.id} ${p.before}`);
          return job(p.id, queued(9, 0).status, { position: 0 });
        },
        list: async () => {
          calls.push('list');
          return [job('a', queued(1).status, { position: 0 }), job('b', queued(2).status, { position: 1 })];
        },
        clearFinished: async (p?: { ids?: string[] }) => {
          calls.push(`clear ${p?.ids?.join(',') ?? 'all'}`);
          return { ids: p?.ids ?? ['f', 'g'] };
        },
        enqueue: async (p: { request: { prompt: string } }) => {
          calls.push(`enqueue ${p.request.prompt}`);
          return job('again', queued(10).status);
        },
        ...overrides,
      },
    };
    return { api: api as unknown as StudioApi, calls };
  }

  it('reorders at once, then takes the engine’s answer; a refusal is said and the engine’s order read back', async () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('a', queued(1).status, { position: 0 }), job('b', queued(2).status, { position: 1 })]);
    const { api, calls } = engineApi();
    const pending = createActions(api, store).reorder('b', 'a');
    expect(selectQueuedIds(store.getState())).toEqual(['b', 'a']);
    await pending;
    expect(calls).toEqual(['reorder b a']);

    const refusing = engineApi({
      reorder: async () => {
        throw new StudioApiError({ code: 'not_queued', message: 'job a is running; only queued jobs can be reordered' });
      },
    });
    await createActions(refusing.api, store).reorder('a', null);
    expect(store.getState().notices.map((n) => n.message)).toEqual(['job a is running; only queued jobs can be reordered']);
    await expect.poll(() => refusing.calls).toEqual(['list']);
  });

  it('clears finished jobs (all or some) and runs a job again', async () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('f', { state: 'done', at: 1, assets: [] }), job('g', { state: 'cancelled', at: 2 })]);
    const { api, calls } = engineApi();
    const actions = createActions(api, store);
    await actions.clearFinished(['f']);
    expect(selectFinishedIds(store.getState())).toEqual(['g']);
    await actions.clearFinished();
    expect(selectFinishedIds(store.getState())).toEqual([]);
    await actions.runAgain(store.getState().jobs.f!);
    expect(calls).toEqual(['clear f', 'clear all', 'enqueue prompt of f']);
    expect(store.getState().jobs.again?.status.state).toBe('queued');
  });
});
