/**
 * The Models view's words and choices: a preparation's progress line, which answer about it wins,
 * which cards show, which models a job type can use, and what the Workspace says without one.
 */
import { describe, expect, it } from 'vitest';
import type { ModelInfo, Preparation } from '../../../src-preload/contract/index.ts';
import {
  asSentence,
  cleanPath,
  isNewerPreparation,
  defaultModel,
  missingModelNote,
  modelOptionLabel,
  percent,
  progressLine,
  readyModels,
  runningFor,
  visiblePreparations,
} from '../../../src-renderer/src/features/models/logic.ts';
import { formatFileSize } from '../../../src-renderer/src/format.ts';

function prep(patch: Partial<Preparation> = {}): Preparation {
  return {
    id: 'p1',
    source: '/mnt/sd/juggernautXL_v9.safetensors',
    vae: null,
    name: 'juggernautXL_v9',
    description: 'SDXL checkpoint, fp16, 6.9 GB, VAE included',
    state: 'preparing',
    phase: 'hashing',
    fraction: 0.42,
    bytesDone: 2_900_000_000,
    bytesTotal: 6_900_000_000,
    etaSeconds: 12,
    modelId: null,
    reused: false,
    error: null,
    startedAt: 10,
    finishedAt: null,
    ...patch,
  };
}

function model(patch: Partial<ModelInfo> = {}): ModelInfo {
  return { id: 'm', family: 'sdxl', name: 'M', path: '/m', sizeBytes: 1, precision: 'fp16', status: 'ready', problems: [], ...patch };
}

describe('a preparation in words', () => {
  it('says the phase, the bytes read of the whole (decimal, as the description) and the time left', () => {
    expect(progressLine(prep())).toBe('reading (model hash) · 2.9 GB of 6.9 GB · about 12s left');
    expect(progressLine(prep({ phase: 'checking', bytesTotal: 0, bytesDone: 0, etaSeconds: null }))).toBe('checking the file');
    expect(progressLine(prep({ phase: 'writing', etaSeconds: 0 }))).toBe('writing · 2.9 GB of 6.9 GB');
    expect(progressLine(prep({ etaSeconds: 95 }))).toContain('about 1m 35s left');
    expect(percent(prep())).toBe(42);
    expect(percent(prep({ fraction: 1.2 }))).toBe(100);
  });

  it('sizes model files as their download pages do', () => {
    expect(formatFileSize(6_938_000_000)).toBe('6.9 GB');
    expect(formatFileSize(334_600_000)).toBe('335 MB');
    expect(formatFileSize(2_000)).toBe('2 KB');
  });

  it("starts the engine's sentence with a capital unless it starts with a file name, and ends it", () => {
    expect(asSentence('the disk holding /d/models is full: free some space and add the model again')).toBe(
      'The disk holding /d/models is full: free some space and add the model again.',
    );
    expect(asSentence('detail_slider.safetensors is a LoRA, not a checkpoint')).toBe('detail_slider.safetensors is a LoRA, not a checkpoint.');
    expect(asSentence('/mnt/x does not exist.')).toBe('/mnt/x does not exist.');
  });

  it('takes the quotes off a path copied "as path"', () => {
    expect(cleanPath('  "C:\\Models\\pony.safetensors" ')).toBe('C:\\Models\\pony.safetensors');
    expect(cleanPath("'/mnt/sd/a b.safetensors'")).toBe('/mnt/sd/a b.safetensors');
    expect(cleanPath('/plain')).toBe('/plain');
  });
});

describe('which answer about a preparation wins', () => {
  it('never goes back from a finished state, nor back in progress', () => {
    expect(isNewerPreparation(undefined, prep())).toBe(true);
    expect(isNewerPreparation(prep({ fraction: 0.5 }), prep({ fraction: 0.4 }))).toBe(false);
    expect(isNewerPreparation(prep({ fraction: 0.5 }), prep({ fraction: 0.6 }))).toBe(true);
    expect(isNewerPreparation(prep(), prep({ state: 'failed', finishedAt: 20 }))).toBe(true);
    expect(isNewerPreparation(prep({ state: 'cancelled', finishedAt: 20 }), prep({ fraction: 0.9 }))).toBe(false);
  });
});

describe('cards and rows', () => {
  it('shows running, failed and cancelled preparations newest first, not done or closed ones', () => {
    const all = {
      a: prep({ id: 'a', startedAt: 1, state: 'failed' }),
      b: prep({ id: 'b', startedAt: 3 }),
      c: prep({ id: 'c', startedAt: 2, state: 'done' }),
      d: prep({ id: 'd', startedAt: 4, state: 'cancelled' }),
    };
    const bySource = Object.fromEntries(Object.entries(all).map(([id, p]) => [id, { ...p, source: `/mnt/sd/${id}.safetensors` }]));
    expect(visiblePreparations(bySource, ['d']).map((p) => p.id)).toEqual(['b', 'a']);
  });

  it('shows only the latest run of a file: a retry (or a later success) supersedes a failed or cancelled one, after a reload too', () => {
    const cancelled = prep({ id: 'old', startedAt: 1, state: 'cancelled', finishedAt: 2 });
    expect(visiblePreparations({ old: cancelled, now: prep({ id: 'now', startedAt: 3 }) }, []).map((p) => p.id)).toEqual(['now']);
    expect(visiblePreparations({ old: cancelled, now: prep({ id: 'now', startedAt: 3, state: 'done' }) }, [])).toEqual([]);
  });

  it('finds the preparation running for a "Ready to prepare" row by its path', () => {
    const all = { a: prep({ id: 'a', state: 'failed' }), b: prep({ id: 'b' }) };
    expect(runningFor(all, '/mnt/sd/juggernautXL_v9.safetensors')?.id).toBe('b');
    expect(runningFor(all, '/elsewhere.safetensors')).toBeNull();
  });
});

describe('the Workspace picker', () => {
  const list = [
    model({ id: 'tiny-xl', name: 'Tiny XL v1.0', precision: 'fp16' }),
    model({ id: 'checkpoint:pony.safetensors', name: 'pony', status: 'needs_preparation' }),
    model({ id: 'broken', status: 'invalid' }),
    model({ id: 'wan', family: 'wan', name: 'wan2.1-t2v-1.3b', precision: 'unknown' }),
  ];

  it('lists the ready models of the family by name and precision', () => {
    expect(readyModels(list, 'sdxl').map(modelOptionLabel)).toEqual(['Tiny XL v1.0 · fp16']);
    expect(readyModels(list, 'wan').map(modelOptionLabel)).toEqual(['wan2.1-t2v-1.3b']);
    expect(readyModels(null, 'sdxl')).toEqual([]);
  });

  it('says why a job would fail when the family has no ready model, and points at what waits to be prepared', () => {
    expect(missingModelNote(list, 'sdxl')).toBeNull();
    expect(missingModelNote(null, 'sdxl')).toBeNull(); // not loaded yet: no false alarm
    const waiting = missingModelNote(list.slice(1), 'sdxl');
    expect(waiting).toMatchObject({ action: 'prepare' });
    expect(waiting?.message).toContain('a checkpoint in your model folders is ready to prepare');
    expect(missingModelNote([], 'sdxl')).toEqual({ action: 'add', message: 'No SDXL model is ready, so jobs of this type would fail. Add one first.' });
    // Add model… takes SDXL files; a WAN model is a folder put into a model folder.
    expect(missingModelNote(list.slice(0, 3), 'wan')).toMatchObject({ action: 'folders', message: expect.stringContaining('No WAN 2.1 model is ready') });
  });

  it('offers neither removed models nor a removed default, and takes the default the engine marks', () => {
    const chosen = [
      model({ id: 'a-xl', name: 'a-xl', isDefault: false }),
      model({ id: 'b-xl', name: 'b-xl', isDefault: true }),
      model({ id: 'c-xl', name: 'c-xl', hidden: true }),
    ];
    expect(readyModels(chosen, 'sdxl').map((m) => m.id)).toEqual(['a-xl', 'b-xl']);
    expect(defaultModel(chosen, 'sdxl')?.id).toBe('b-xl');
    // An older engine marks nothing: the first ready one, as it picks.
    expect(defaultModel([model({ id: 'a-xl' }), model({ id: 'b-xl' })], 'sdxl')?.id).toBe('a-xl');
    expect(defaultModel(null, 'sdxl')).toBeUndefined();
  });

  it('says when every ready model of the family was removed from the list, and sends the person to Models', () => {
    const removed = [model({ id: 'a-xl', hidden: true }), model({ id: 'checkpoint:pony.safetensors', status: 'needs_preparation', hidden: true })];
    expect(missingModelNote(removed, 'sdxl')).toEqual({
      action: 'prepare',
      message: 'Every ready SDXL model was removed from the list, so jobs of this type would fail. Put one back in Models (Show removed).',
    });
    // A removed checkpoint is not counted as waiting to be prepared.
    expect(missingModelNote(removed.slice(1), 'sdxl')).toEqual({ action: 'add', message: 'No SDXL model is ready, so jobs of this type would fail. Add one first.' });
  });
});
