/** What Settings → Check tells a person, from real-looking findings; and the GPU budget moving live. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GpuMonitor } from '../../../src-main/engine/gpu/monitor.ts';
import { ffmpegItem, gpuItem, modelDirItems, providersItem, workerProviders } from '../../../src-main/engine/settings/checks.ts';
import type { SettingsState } from '../../../src-preload/contract/settings.ts';
import type { ModelInfo } from '../../../src-preload/contract/status.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'studio-checks-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function state(partial: { modelDirs?: string[]; effectiveDirs?: string[]; providers?: string[]; vramBudgetMb?: number | null }): SettingsState {
  const builtIn = path.join(dir, 'models');
  return {
    values: {
      modelDirs: partial.modelDirs ?? [],
      providers: 'auto',
      vramBudgetMb: partial.vramBudgetMb ?? null,
      ffmpegPath: null,
      previewEvery: 1,
      workerIdleMinutes: 10,
      libraryRoot: path.join(dir, 'library'),
    },
    overrides: {},
    effective: {
      modelDirs: partial.effectiveDirs ?? [builtIn, ...(partial.modelDirs ?? [])],
      providers: partial.providers ?? ['cuda', 'webgpu', 'cpu'],
      vramBudgetMb: partial.vramBudgetMb ?? null,
      ffmpegPath: null,
      previewEvery: 1,
      workerIdleMinutes: 10,
    },
    builtInModelDir: builtIn,
    platformProviders: ['cuda', 'webgpu', 'cpu'],
    problems: [],
    warnings: [],
    file: path.join(dir, 'settings.json'),
  };
}

const model = (p: string, status: ModelInfo['status'], problems: string[] = []): ModelInfo => ({
  id: path.basename(p),
  family: 'sdxl',
  name: path.basename(p),
  path: p,
  sizeBytes: 1,
  precision: 'fp16',
  status,
  problems,
});

describe('model folder checks', () => {
  it('says per folder whether it is there and what models it holds, at the field it belongs to', () => {
    const builtIn = path.join(dir, 'models');
    const mine = path.join(dir, 'mine');
    mkdirSync(builtIn);
    mkdirSync(mine);
    const gone = path.join(dir, 'gone');
    const items = modelDirItems(state({ modelDirs: [mine, gone] }), [
      model(path.join(mine, 'sdxl-base'), 'ready'),
      model(path.join(mine, 'broken'), 'invalid', ['unet/model.onnx is missing']),
    ]);
    expect(items.map((i) => [i.item, i.ok, i.field])).toEqual([
      [`Model folder ${builtIn} (the data folder’s own models folder)`, true, null],
      [`Model folder ${mine}`, true, 'modelDirs.0'],
      [`Model folder ${gone}`, false, 'modelDirs.1'],
    ]);
    expect(items[0]!.detail).toContain('no model folders in it yet');
    expect(items[1]!.detail).toBe('2 models, 1 ready: sdxl-base (ready), broken (not usable: unet/model.onnx is missing).');
    expect(items[2]!.detail).toContain('does not exist');
    expect(items[2]!.fix).toContain('remove it from the list');
  });

  it('calls a file where a folder should be what it is', () => {
    const file = path.join(dir, 'models');
    writeFileSync(file, '');
    expect(modelDirItems(state({}), [])[0]).toMatchObject({ ok: false, detail: expect.stringContaining('a file, not a folder') });
  });
});

describe('ffmpeg check', () => {
  it('shows the version and where it came from, or the install advice', () => {
    expect(ffmpegItem({ ok: true, ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe', version: '5.1.9-0+deb12u1', source: 'path' }, 'linux').detail).toBe(
      'ffmpeg 5.1.9-0+deb12u1 at /usr/bin/ffmpeg (from PATH), with libx264 and ffprobe.',
    );
    const missing = ffmpegItem({ ok: false, problem: 'not_found', message: 'Video jobs need ffmpeg … none was found on PATH.' }, 'win32');
    expect(missing).toMatchObject({ ok: false, field: 'ffmpegPath' });
    expect(missing.fix).toContain('gyan.dev');
  });
});

describe('GPU check', () => {
  it('names the GPU and its memory when nvidia-smi answers', () => {
    const item = gpuItem(
      { source: 'nvidia-smi', name: 'NVIDIA GeForce RTX 4090', memoryUsedMb: 1200, memoryTotalMb: 24_564, utilizationPct: 3, budgetMb: 22_108, note: null },
      state({}),
    );
    expect(item).toMatchObject({ ok: true, field: 'vramBudgetMb' });
    expect(item.detail).toBe('NVIDIA GeForce RTX 4090: 24564 MB, 1200 MB in use; the scheduler keeps to 22108 MB (measured total less a reserve).');
  });

  it('says what to do without nvidia-smi', () => {
    const item = gpuItem(
      { source: 'configured', name: null, memoryUsedMb: null, memoryTotalMb: 8192, utilizationPct: null, budgetMb: 8192, note: 'nvidia-smi was not found, so …' },
      state({}),
    );
    expect(item).toMatchObject({ ok: false, detail: 'nvidia-smi was not found, so …' });
    expect(item.fix).toContain('set the VRAM budget');
  });
});

describe('providers check', () => {
  const linux = { platform: 'linux' as const, arch: 'x64' };
  it('says which provider jobs use first and why others are skipped', () => {
    const item = providersItem(state({ providers: ['cuda', 'webgpu', 'cpu'] }), ['cpu', 'webgpu'], linux);
    expect(item.ok).toBe(true);
    expect(item.detail).toContain('Usable on this machine: CPU, WebGPU.');
    expect(item.detail).toContain('Jobs use WebGPU first, then CPU.');
    expect(item.detail).toContain('Skipped: CUDA (not on this platform');
  });

  it('is a problem when no provider in the order can run here', () => {
    const item = providersItem(state({ providers: ['dml'] }), ['cpu'], linux);
    expect(item.ok).toBe(false);
    expect(item.fix).toContain('Add CPU');
  });

  it('cannot say from a process that runs no workers', () => {
    expect(providersItem(state({}), null, linux).ok).toBeNull();
  });

  it("reads a worker's ready message, starting one when none has answered", async () => {
    const workers: { state: string; providersAvailable: string[] }[] = [];
    const warmed: string[] = [];
    const port = {
      status: () => workers,
      warm: (slot: string) => {
        warmed.push(slot);
        setTimeout(() => workers.push({ state: 'idle', providersAvailable: ['cpu', 'cuda'] }), 30);
      },
    };
    expect(await workerProviders(port, 'sdxl', 10_000, 5)).toEqual(['cpu', 'cuda']);
    expect(warmed).toEqual(['sdxl']);
    expect(await workerProviders(port, 'sdxl', 10_000, 5)).toEqual(['cpu', 'cuda']);
    expect(warmed).toEqual(['sdxl']);
  });
});

describe('VRAM budget set while running', () => {
  const csv = '0, NVIDIA GeForce RTX 4090, 1200, 24564, 3\n';

  it('applies at once on a measured GPU, never above its memory', async () => {
    const gpu = new GpuMonitor({ configuredBudgetMb: 8192, exec: async () => csv });
    await gpu.sample();
    expect(gpu.budgetMb()).toBe(24_564 - 2456);
    gpu.setBudget(12_000);
    expect(gpu.budgetMb()).toBe(12_000);
    gpu.setBudget(100_000);
    expect(gpu.budgetMb()).toBe(24_564);
    gpu.setBudget(null);
    expect(gpu.budgetMb()).toBe(24_564 - 2456);
  });

  it('is what the note quotes when nvidia-smi is missing', async () => {
    const enoent = Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
    const gpu = new GpuMonitor({ configuredBudgetMb: 8192, exec: async () => Promise.reject(enoent) });
    expect((await gpu.sample()).note).toContain('8192 MB');
    gpu.setBudget(6144);
    expect(gpu.budgetMb()).toBe(6144);
    const snap = await gpu.recheck();
    expect(snap.budgetMb).toBe(6144);
    expect(snap.note).toContain('6144 MB');
  });
});
