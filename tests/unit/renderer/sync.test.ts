/**
 * The store follows the engine: first answers, pushed events, queue positions after a change, and a
 * fresh read after the event stream reconnects (events sent while it was down are lost).
 */
import { describe, expect, it } from 'vitest';
import type { EventName, Events, GpuStats, JobView, ModelInfo, Preparation, QueueState, SettingsState, StudioApi } from '../../../src-preload/contract/index.ts';
import type { Connection, ConnectionState } from '../../../src-renderer/src/api/connection.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';
import { connectStore } from '../../../src-renderer/src/sync.ts';
import { job, queued, running } from './jobs.ts';
import { StudioApiError } from '../../../src-renderer/src/api/errors.ts';
import { selectFinishedIds } from '../../../src-renderer/src/features/queue/selectors.ts';

const gpu: GpuStats = {
  source: 'configured',
  name: null,
  memoryUsedMb: null,
  memoryTotalMb: 24576,
  utilizationPct: null,
  budgetMb: 20480,
  loadedModels: [],
  workers: [],
  note: null,
};

const settings: SettingsState = {
  values: { modelDirs: [], providers: 'auto', vramBudgetMb: null, ffmpegPath: null, previewEvery: 1, workerIdleMinutes: 10, libraryRoot: '/d/library' },
  overrides: {},
  effective: { modelDirs: ['/d/models'], providers: ['cpu'], vramBudgetMb: null, ffmpegPath: null, previewEvery: 1, workerIdleMinutes: 10 },
  builtInModelDir: '/d/models',
  platformProviders: ['cpu'],
  problems: [],
  warnings: [],
  file: '/d/settings.json',
};

function preparation(patch: Partial<Preparation> = {}): Preparation {
  return {
    id: 'p1',
    source: '/mnt/sd/tinyXL.safetensors',
    vae: null,
    name: 'Tiny XL',
    description: 'SDXL checkpoint, fp16, 6.9 GB, VAE included',
    state: 'preparing',
    phase: 'hashing',
    fraction: 0.1,
    bytesDone: 100,
    bytesTotal: 1000,
    etaSeconds: null,
    modelId: null,
    reused: false,
    error: null,
    startedAt: 1,
    finishedAt: null,
    ...patch,
  };
}

function fakeEngine() {
  let jobs: JobView[] = [];
  let models: ModelInfo[] = [];
  let preparations: Preparation[] = [];
  let queue: QueueState = { paused: false, queued: 0, running: 0 };
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: string[] = [];
  const on = (event: EventName) => (l: (p: unknown) => void) => {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(l);
    return () => set.delete(l);
  };
  const api = {
    app: {
      info: async () => ({ version: '0.1.0', dataDir: '/d', modelDirs: [], providers: ['cpu'], frontDoor: 'serve' }),
      onNotice: on('app.notice'),
    },
    catalog: { list: async () => [] },
    models: {
      list: async () => models,
      preparations: async () => preparations,
      onPreparation: on('models.preparation'),
      onChanged: on('models.changed'),
    },
    settings: { get: async () => settings, onChanged: on('settings.changed') },
    jobs: {
      list: async (p?: { states?: string[] }) => {
        calls.push(`jobs.list ${p?.states?.join(',') ?? 'all'}`);
        return jobs.filter((j) => !p?.states || p.states.includes(j.status.state));
      },
      onChanged: on('jobs.changed'),
      onProgress: on('jobs.progress'),
      onCleared: on('jobs.cleared'),
    },
    queue: { state: async () => queue, onChanged: on('queue.changed') },
    gpu: { status: async () => gpu, onChanged: on('gpu.changed') },
  };
  let state: ConnectionState = 'connecting';
  const stateListeners = new Set<(s: ConnectionState) => void>();
  const connection: Connection = {
    get state() {
      return state;
    },
    onState: (l) => {
      stateListeners.add(l);
      return () => stateListeners.delete(l);
    },
    connect: () => {},
    close: () => {},
  };
  return {
    api: api as unknown as StudioApi,
    connection,
    calls,
    setJobs: (next: JobView[]) => (jobs = next),
    setModels: (next: ModelInfo[]) => (models = next),
    setPreparations: (next: Preparation[]) => (preparations = next),
    setQueue: (next: QueueState) => (queue = next),
    emit<E extends EventName>(event: E, payload: Events[E]) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
    setConnection(next: ConnectionState) {
      state = next;
      for (const l of stateListeners) l(next);
    },
  };
}

describe('connectStore', () => {
  it('loads jobs, queue and GPU state, then follows pushed events', async () => {
    const engine = fakeEngine();
    engine.setJobs([job('a', queued(10).status, { position: 0 })]);
    engine.setQueue({ paused: true, queued: 1, running: 0 });
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    await expect.poll(() => store.getState().jobs.a?.status.state).toBe('queued');
    await expect.poll(() => store.getState().queue).toEqual({ paused: true, queued: 1, running: 0 });
    expect(store.getState().gpu).toEqual(gpu);

    engine.emit('jobs.changed', job('a', running(20, 0, 4)));
    engine.emit('jobs.progress', { jobId: 'a', step: 2, of: 4, stage: null, preview: null, etaMs: null });
    expect(store.getState().jobs.a!.status).toMatchObject({ state: 'running', step: 2, of: 4 });
    engine.emit('gpu.changed', { ...gpu, memoryUsedMb: 5000 });
    expect(store.getState().gpu?.memoryUsedMb).toBe(5000);
  });

  it('takes finished jobs cleared by any front door out of the Queue, keeping them for the Workspace', async () => {
    const engine = fakeEngine();
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    store.getState().upsertJobs([job('a', { state: 'done', at: 5, assets: [] }), job('b', { state: 'failed', at: 6, code: 'x', message: 'y' })]);
    expect(selectFinishedIds(store.getState()).sort()).toEqual(['a', 'b']);
    engine.emit('jobs.cleared', { ids: ['a'] });
    expect(selectFinishedIds(store.getState())).toEqual(['b']);
    expect(store.getState().jobs.a?.status.state).toBe('done');
  });

  it('leaves a server that stopped or refuses the tab to the connection notice: no toast per failed read', async () => {
    const engine = fakeEngine();
    const refused = new StudioApiError({ code: 'unauthorized', message: 'new link needed' });
    const gone = new StudioApiError({ code: 'unreachable', message: 'server gone' });
    const api = engine.api as unknown as { settings: { get(): Promise<unknown> }; gpu: { status(): Promise<unknown> }; models: { list(): Promise<unknown> } };
    api.settings.get = async () => Promise.reject(refused);
    api.gpu.status = async () => Promise.reject(gone);
    api.models.list = async () => Promise.reject(new StudioApiError({ code: 'internal', message: 'the model folder could not be read' }));
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    await expect.poll(() => store.getState().notices.map((n) => n.message)).toEqual(['the model folder could not be read']);
  });

  it('shows engine notices (a crashed worker) as toasts', () => {
    const engine = fakeEngine();
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    engine.emit('app.notice', { level: 'error', message: 'The sdxl worker crashed 5 times in a row', at: 1 });
    expect(store.getState().notices).toEqual([expect.objectContaining({ kind: 'error', message: 'The sdxl worker crashed 5 times in a row' })]);
  });

  it('re-reads places in line and queue counts when a job starts, even without a queue event', async () => {
    const engine = fakeEngine();
    engine.setJobs([job('a', queued(10).status, { position: 0 }), job('b', queued(11).status, { position: 1 })]);
    engine.setQueue({ paused: false, queued: 2, running: 0 });
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    await expect.poll(() => store.getState().jobs.b?.position).toBe(1);

    // "a" starts: the engine announces the job only, not b's new place nor the new counts.
    engine.setJobs([job('a', running(20, 0, 4)), job('b', queued(11).status, { position: 0 })]);
    engine.setQueue({ paused: false, queued: 1, running: 1 });
    engine.emit('jobs.changed', job('a', running(20, 0, 4)));
    await expect.poll(() => store.getState().jobs.b?.position).toBe(0);
    await expect.poll(() => store.getState().queue).toEqual({ paused: false, queued: 1, running: 1 });
  });

  it('keeps a known place in line when a change event leaves it out', async () => {
    const engine = fakeEngine();
    engine.setJobs([job('a', queued(10).status, { position: 3 })]);
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    await expect.poll(() => store.getState().jobs.a?.position).toBe(3);
    engine.emit('jobs.changed', job('a', queued(10).status, { position: null }));
    expect(store.getState().jobs.a?.position).toBe(3);
  });

  it('takes settings changed elsewhere (another window, the CLI) and re-reads the models a new folder holds', async () => {
    const engine = fakeEngine();
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    await expect.poll(() => store.getState().settings?.values.modelDirs).toEqual([]);
    await expect.poll(() => store.getState().models).toEqual([]);

    const model: ModelInfo = { id: 'juggernaut-xl', family: 'sdxl', name: 'juggernaut-xl', path: '/mnt/m/juggernaut-xl', sizeBytes: 1, precision: 'fp16', status: 'ready', problems: [] };
    engine.setModels([model]);
    const next = { ...settings, values: { ...settings.values, modelDirs: ['/mnt/m'] } };
    engine.emit('settings.changed', { changed: ['modelDirs'], state: next });
    expect(store.getState().settings?.values.modelDirs).toEqual(['/mnt/m']);
    await expect.poll(() => store.getState().models?.map((m) => m.id)).toEqual(['juggernaut-xl']);
  });

  it('loads the preparations still running (a reload while a model prepares), follows their progress and the new model list', async () => {
    const engine = fakeEngine();
    engine.setPreparations([preparation({ fraction: 0.4, bytesDone: 400 })]);
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    await expect.poll(() => store.getState().preparations.p1?.fraction).toBe(0.4);

    engine.emit('models.preparation', preparation({ fraction: 0.7, bytesDone: 700, etaSeconds: 3 }));
    expect(store.getState().preparations.p1).toMatchObject({ fraction: 0.7, etaSeconds: 3 });
    const ready: ModelInfo = { id: 'tiny-xl', family: 'sdxl', name: 'Tiny XL', path: '/d/models/tiny-xl', sizeBytes: 1, precision: 'fp16', status: 'ready', problems: [], hash: '6d60ae1346' };
    engine.emit('models.changed', [ready]);
    engine.emit('models.preparation', preparation({ state: 'done', fraction: 1, phase: null, modelId: 'tiny-xl', finishedAt: 9 }));
    expect(store.getState().models).toEqual([ready]);
    expect(store.getState().preparations.p1?.state).toBe('done');
    expect(store.getState().notices).toEqual([expect.objectContaining({ kind: 'info', title: 'Model ready', message: 'Tiny XL is prepared: pick it in the Workspace.' })]);
  });

  it('never lets a late list answer undo a finished preparation or move its progress back', () => {
    const store = createStudioStore();
    store.getState().upsertPreparations([preparation({ fraction: 0.5 })]);
    store.getState().upsertPreparations([preparation({ fraction: 0.2 })]);
    expect(store.getState().preparations.p1?.fraction).toBe(0.5);
    store.getState().upsertPreparations([preparation({ state: 'cancelled', phase: null, finishedAt: 5 })]);
    store.getState().upsertPreparations([preparation({ fraction: 0.9 })]);
    expect(store.getState().preparations.p1?.state).toBe('cancelled');
  });

  it('reloads after the event stream reconnects, catching changes it missed', async () => {
    const engine = fakeEngine();
    engine.setJobs([job('a', running(20, 1, 4))]);
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    engine.setConnection('open');
    await expect.poll(() => store.getState().jobs.a?.status.state).toBe('running');

    engine.setConnection('reconnecting');
    expect(store.getState().connection).toBe('reconnecting');
    // While the socket was down, the job finished and its event was lost.
    engine.setJobs([job('a', { state: 'done', at: 40, assets: ['1', '2'] })]);
    engine.setConnection('open');
    await expect.poll(() => store.getState().jobs.a?.status.state).toBe('done');
  });

  it('re-reads the model list and the preparations after a reconnect (a model prepared meanwhile)', async () => {
    const engine = fakeEngine();
    engine.setPreparations([preparation({ fraction: 0.3 })]);
    const store = createStudioStore();
    connectStore(engine.api, engine.connection, store);
    engine.setConnection('open');
    await expect.poll(() => store.getState().preparations.p1?.state).toBe('preparing');
    engine.setConnection('reconnecting');
    engine.setPreparations([preparation({ state: 'done', fraction: 1, phase: null, modelId: 'tiny-xl', finishedAt: 9 })]);
    engine.setModels([{ id: 'tiny-xl', family: 'sdxl', name: 'Tiny XL', path: '/d/models/tiny-xl', sizeBytes: 1, precision: 'fp16', status: 'ready', problems: [] }]);
    engine.setConnection('open');
    await expect.poll(() => store.getState().preparations.p1?.state).toBe('done');
    await expect.poll(() => store.getState().models?.map((m) => m.id)).toEqual(['tiny-xl']);
  });
});
