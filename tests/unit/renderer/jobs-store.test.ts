import { describe, expect, it } from 'vitest';
import { createStudioStore } from '../../../src-renderer/src/store.ts';
import { selectActiveCount, selectFinishedIds, selectQueuedIds, selectRunningIds } from '../../../src-renderer/src/features/queue/selectors.ts';
import { job, queued, running } from './jobs.ts';

describe('jobs slice', () => {
  it('keeps a running job running when an older list answer arrives after its start event', () => {
    const store = createStudioStore();
    const q = queued(100);
    store.getState().upsertJobs([job('a', running(200, 3, 15))]);
    store.getState().upsertJobs([job('a', q.status, { position: q.position })]);
    expect(store.getState().jobs.a!.status).toMatchObject({ state: 'running', step: 3 });
  });

  it('moves a job on to done, and newer queue positions replace older ones', () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('a', running(200, 3, 15)), job('b', queued(150).status, { position: 1 })]);
    store.getState().upsertJobs([job('a', { state: 'done', at: 300, assets: ['x', 'y'] })]);
    store.getState().upsertJobs([job('b', queued(150).status, { position: 0 })]);
    expect(store.getState().jobs.a!.status.state).toBe('done');
    expect(store.getState().jobs.b!.position).toBe(0);
  });

  it('applies progress to a running job and ignores a late, lower step', () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('a', running(200, 0, 15))]);
    store.getState().applyProgress({ jobId: 'a', step: 5, of: 15, stage: 'denoising', preview: 'data:image/png;base64,AA', etaMs: 900 });
    store.getState().applyProgress({ jobId: 'a', step: 4, of: 15, stage: 'denoising', preview: null, etaMs: 1000 });
    const a = store.getState().jobs.a!;
    expect(a.status).toMatchObject({ state: 'running', step: 5, of: 15, stage: 'denoising' });
    expect(store.getState().progress.a).toEqual({ preview: 'data:image/png;base64,AA', etaMs: 900, stageProgress: null });
  });

  it('does not turn a finished job back into a running one on a straggling progress event', () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('a', running(200, 14, 15))]);
    store.getState().upsertJobs([job('a', { state: 'done', at: 300, assets: ['x'] })]);
    store.getState().applyProgress({ jobId: 'a', step: 15, of: 15, stage: null, preview: null, etaMs: 0 });
    expect(store.getState().jobs.a!.status.state).toBe('done');
    expect(store.getState().progress.a).toBeUndefined();
  });

  it('lists newest jobs first', () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('old', queued(1).status, { createdAt: 1 }), job('new', queued(2).status, { createdAt: 2 })]);
    store.getState().upsertJobs([job('mid', queued(3).status, { createdAt: 1.5 })]);
    expect(store.getState().jobOrder).toEqual(['new', 'mid', 'old']);
  });
});

describe('queue selectors', () => {
  it('orders queued jobs by their place in line and finished ones by most recent', () => {
    const store = createStudioStore();
    store.getState().upsertJobs([
      job('q-second', queued(10).status, { position: 1, createdAt: 1 }),
      job('q-first', queued(11).status, { position: 0, createdAt: 2 }),
      job('run', running(20, 1, 4), { startedAt: 20 }),
      job('done-early', { state: 'done', at: 30, assets: [] }, { finishedAt: 30 }),
      job('failed-late', { state: 'failed', at: 40, code: 'oom', message: 'out of memory' }, { finishedAt: 40 }),
      job('cancelled', { state: 'cancelled', at: 35 }, { finishedAt: 35 }),
    ]);
    const s = store.getState();
    expect(selectQueuedIds(s)).toEqual(['q-first', 'q-second']);
    expect(selectRunningIds(s)).toEqual(['run']);
    expect(selectFinishedIds(s)).toEqual(['failed-late', 'cancelled', 'done-early']);
    expect(selectActiveCount(s)).toBe(3);
  });
});

describe('notices slice', () => {
  it('shows a repeated error once', () => {
    const store = createStudioStore();
    const n = { kind: 'error', title: 'Could not load GPU status', message: 'unreachable' } as const;
    store.getState().notify(n);
    store.getState().notify(n);
    expect(store.getState().notices).toHaveLength(1);
    store.getState().dismissNotice(store.getState().notices[0]!.id);
    expect(store.getState().notices).toHaveLength(0);
  });
});
