/** What the Settings view does with a person's edits, before and after the engine answers. */
import { describe, expect, it } from 'vitest';
import type { ModelInfo, SettingsCheckItem, SettingsState, StudioApi } from '../../../src-preload/contract/index.ts';
import { createSettingsActions } from '../../../src-renderer/src/features/settings/actions.ts';
import { asSentence, folderStatus, moveProvider, providerRows, toggleProvider } from '../../../src-renderer/src/features/settings/logic.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';

const state: SettingsState = {
  values: { modelDirs: ['/mnt/models', '/media/usb/models'], providers: 'auto', vramBudgetMb: null, ffmpegPath: null, previewEvery: 1, workerIdleMinutes: 10, libraryRoot: '/d/library' },
  overrides: {},
  effective: { modelDirs: ['/d/models', '/mnt/models', '/media/usb/models'], providers: ['cuda', 'webgpu', 'cpu'], vramBudgetMb: null, ffmpegPath: null, previewEvery: 1, workerIdleMinutes: 10 },
  builtInModelDir: '/d/models',
  platformProviders: ['cuda', 'webgpu', 'cpu'],
  problems: [{ field: 'modelDirs.1', message: 'this folder does not exist. Check the path (a drive that is not connected?), or create the folder first.' }],
  warnings: [],
  file: '/d/settings.json',
};

const model = (path: string, status: ModelInfo['status']): ModelInfo => ({
  id: path.split('/').at(-1)!,
  family: 'sdxl',
  name: path,
  path,
  sizeBytes: 1,
  precision: 'fp16',
  status,
  problems: [],
});

describe('provider order', () => {
  it('lists the chosen providers first, in order, then the others unticked', () => {
    expect(providerRows(['webgpu', 'cpu'])).toEqual([
      { name: 'webgpu', on: true },
      { name: 'cpu', on: true },
      { name: 'cuda', on: false },
      { name: 'dml', on: false },
    ]);
  });

  it('moves a provider one place, and not past either end', () => {
    expect(moveProvider(['cuda', 'webgpu', 'cpu'], 'cpu', -1)).toEqual(['cuda', 'cpu', 'webgpu']);
    expect(moveProvider(['cuda', 'webgpu', 'cpu'], 'cuda', -1)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(moveProvider(['cuda', 'webgpu', 'cpu'], 'cpu', 1)).toEqual(['cuda', 'webgpu', 'cpu']);
  });

  it('adds a ticked provider at the end and drops an unticked one', () => {
    expect(toggleProvider(['cuda', 'cpu'], 'webgpu', true)).toEqual(['cuda', 'cpu', 'webgpu']);
    expect(toggleProvider(['cuda', 'cpu'], 'cuda', false)).toEqual(['cpu']);
  });
});

describe('model folder status', () => {
  const models = [model('/mnt/models/sdxl-base', 'ready'), model('/mnt/models/wan', 'invalid'), model('/mnt/models-old/x', 'ready'), model('/d/models', 'ready')];

  it('counts the models a folder holds (one level down, or the folder itself)', () => {
    expect(folderStatus('/mnt/models', state, models)).toEqual({ kind: 'ok', models: 2, ready: 1, toPrepare: 0 });
    expect(folderStatus('/d/models', state, models)).toEqual({ kind: 'ok', models: 1, ready: 1, toPrepare: 0 });
  });

  it('counts checkpoints waiting to be prepared, in the folder or in a folder of them', () => {
    const found = [
      model('/mnt/sd/juggernautXL_v9.safetensors', 'needs_preparation'),
      model('/mnt/sd/Pony/ponyDiffusionV6XL.safetensors', 'needs_preparation'),
      model('/mnt/sd/v1-5-pruned.safetensors', 'invalid'),
    ];
    expect(folderStatus('/mnt/sd', state, found)).toEqual({ kind: 'ok', models: 3, ready: 0, toPrepare: 2 });
  });

  it("says a stored folder is missing in the engine's words", () => {
    expect(folderStatus('/media/usb/models', state, models)).toEqual({ kind: 'missing', message: expect.stringContaining('does not exist') });
  });

  it('understands Windows paths', () => {
    const win = [model('D:\\models\\juggernaut', 'ready')];
    expect(folderStatus('D:\\models', state, win)).toEqual({ kind: 'ok', models: 1, ready: 1, toPrepare: 0 });
  });
});

describe('field errors', () => {
  it('read as sentences without the field name the row already shows', () => {
    expect(asSentence('vramBudgetMb must be at least 512 MB')).toBe('Must be at least 512 MB');
    expect(asSentence('modelDirs.0 must be a full path (starting with / or a drive letter such as C:\\)')).toBe('Must be a full path (starting with / or a drive letter such as C:\\)');
    expect(asSentence('/nope: this folder does not exist.')).toBe('/nope: this folder does not exist.');
  });
});

describe('settings actions', () => {
  function fakeApi(answers: { update?: () => Promise<SettingsState>; check?: () => Promise<SettingsCheckItem[]>; get?: () => Promise<SettingsState> }) {
    return {
      settings: {
        get: answers.get ?? (async () => state),
        update: answers.update ?? (async () => state),
        check: answers.check ?? (async () => []),
      },
      library: { stats: async () => ({}), moveRoot: async () => ({}) },
    } as unknown as StudioApi;
  }

  it('stores what the engine saved, and hands a refusal back for its field without a toast', async () => {
    const store = createStudioStore();
    const saved = { ...state, values: { ...state.values, previewEvery: 4 } };
    const ok = createSettingsActions(fakeApi({ update: async () => saved }), store);
    expect(await ok.update({ previewEvery: 4 })).toEqual({ ok: true, value: null });
    expect(store.getState().settings?.values.previewEvery).toBe(4);

    const refusing = createSettingsActions(
      fakeApi({ update: async () => Promise.reject({ code: 'invalid_setting', message: 'vramBudgetMb must be at least 512 MB', field: 'vramBudgetMb' }) }),
      store,
    );
    expect(await refusing.update({ vramBudgetMb: 100 })).toEqual({ ok: false, error: { code: 'invalid_setting', message: 'vramBudgetMb must be at least 512 MB', field: 'vramBudgetMb' } });
    expect(store.getState().settings?.values.previewEvery).toBe(4);
    expect(store.getState().notices).toEqual([]);
  });

  it('keeps the latest result of each check that ran, and the others as they were', async () => {
    const store = createStudioStore();
    const item = (check: SettingsCheckItem['check'], detail: string): SettingsCheckItem => ({ check, item: check, ok: true, detail, fix: null, field: null });
    const first = createSettingsActions(fakeApi({ check: async () => [item('ffmpeg', 'ffmpeg 5.1'), item('gpu', 'RTX 4090')] }), store);
    await first.check(['ffmpeg', 'gpu']);
    const second = createSettingsActions(fakeApi({ check: async () => [item('ffmpeg', 'ffmpeg 7.1')] }), store);
    await second.check(['ffmpeg']);
    expect(store.getState().settingsChecks.ffmpeg?.map((i) => i.detail)).toEqual(['ffmpeg 7.1']);
    expect(store.getState().settingsChecks.gpu?.map((i) => i.detail)).toEqual(['RTX 4090']);
  });

  it('says when the settings could not be loaded', async () => {
    const store = createStudioStore();
    await createSettingsActions(fakeApi({ get: async () => Promise.reject(new Error('connection refused')) }), store).load();
    expect(store.getState().notices).toEqual([expect.objectContaining({ title: 'Could not load the settings', message: 'connection refused' })]);
  });
});
