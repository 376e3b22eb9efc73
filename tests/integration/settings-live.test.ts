/**
 * Settings change what a running engine does, without a restart: from its own channel (the app and
 * `studio serve`), and from `studio settings set` in another process.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src-main/engine/engine.ts';
import type { SettingsChange } from '../../src-preload/contract/settings.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let engine: Engine | null = null;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'studio-settings-live-'));
});
afterEach(async () => {
  await engine?.close();
  engine = null;
  rmSync(root, { recursive: true, force: true });
});

/** A folder holding one folder the registry recognises as an SDXL export (not a complete one). */
function modelFolder(name: string, model: string): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, model), { recursive: true });
  writeFileSync(path.join(dir, model, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' }));
  return dir;
}

async function openRunner(options: Partial<Parameters<typeof Engine.open>[0]> = {}): Promise<Engine> {
  engine = await Engine.open({ dataDir: path.join(root, 'data'), frontDoor: 'serve', role: 'runner', ...options });
  return engine;
}

const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('settings applied live', () => {
  it('a model folder added in Settings is listed by models.list at once, and gone once removed', async () => {
    const e = await openRunner();
    const folder = modelFolder('my-models', 'juggernaut-xl');
    expect((await e.handlers['models.list'](undefined)).map((m) => m.id)).toEqual([]);

    const changes: SettingsChange[] = [];
    e.on('settings.changed', (c) => changes.push(c));
    const state = await e.handlers['settings.update']({ modelDirs: [folder] });
    expect(state.effective.modelDirs).toContain(folder);
    expect((await e.handlers['models.list'](undefined)).map((m) => m.id)).toEqual(['juggernaut-xl']);
    expect((await e.handlers['app.info'](undefined)).modelDirs).toContain(folder);
    expect(changes.map((c) => c.changed)).toEqual([['modelDirs']]);

    await e.handlers['settings.update']({ modelDirs: [] });
    expect(await e.handlers['models.list'](undefined)).toEqual([]);
  });

  it('a VRAM budget set in Settings is the budget gpu.status reports at once', async () => {
    const e = await openRunner();
    const gpuEvents: number[] = [];
    e.on('gpu.changed', (g) => gpuEvents.push(g.budgetMb));
    await e.handlers['settings.update']({ vramBudgetMb: 1024 });
    expect((await e.handlers['gpu.status'](undefined)).budgetMb).toBe(1024);
    expect(gpuEvents).toContain(1024);
    await e.handlers['settings.update']({ vramBudgetMb: 2048 });
    expect((await e.handlers['gpu.status'](undefined)).budgetMb).toBe(2048);
  });

  it('the next job gets the new provider order', async () => {
    const e = await openRunner();
    await e.handlers['settings.update']({ providers: ['cpu'] });
    expect((await e.handlers['app.info'](undefined)).providers).toEqual(['cpu']);
    expect((await e.handlers['settings.get'](undefined)).effective.providers).toEqual(['cpu']);
  });

  it('`studio settings set` in another process reaches the open engine', async () => {
    const e = await openRunner();
    const changes: SettingsChange[] = [];
    e.on('settings.changed', (c) => changes.push(c));
    const folder = modelFolder('from-cli', 'pony-xl');
    const set = await studio(['--data', path.join(root, 'data'), 'settings', 'set', 'vramBudgetMb', '3072']);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    await studio(['--data', path.join(root, 'data'), 'settings', 'set', 'modelDirs', folder]);
    await expect.poll(async () => (await e.handlers['gpu.status'](undefined)).budgetMb, { timeout: 15_000 }).toBe(3072);
    await expect.poll(async () => (await e.handlers['models.list'](undefined)).map((m) => m.id), { timeout: 15_000 }).toEqual(['pony-xl']);
    expect(changes.flatMap((c) => c.changed)).toEqual(expect.arrayContaining(['vramBudgetMb', 'modelDirs']));
  });

  it('values given when the engine opened win for that run and are not written back', async () => {
    const extra = modelFolder('extra', 'sdxl-turbo');
    const e = await openRunner({ modelDirs: [extra], vramBudgetMb: 1536 });
    await e.handlers['settings.update']({ vramBudgetMb: 4096, previewEvery: 2 });
    const state = await e.handlers['settings.get'](undefined);
    expect(state.values.vramBudgetMb).toBe(4096);
    expect(state.effective.vramBudgetMb).toBe(1536);
    expect(state.overrides).toEqual({ modelDirs: [extra], vramBudgetMb: 1536 });
    expect(state.values.modelDirs).toEqual([]);
    expect((await e.handlers['models.list'](undefined)).map((m) => m.id)).toEqual(['sdxl-turbo']);
  });

  it('settings.check finds ffmpeg again after the path changes', { skip: !hasFfmpeg }, async () => {
    const e = await openRunner();
    // Named ffmpeg (anything else is never run), but not one. Set as the CLI and the app's chooser
    // do: the window's settings.update cannot name a program.
    const notFfmpeg = path.join(root, 'not-ffmpeg', 'ffmpeg');
    mkdirSync(path.dirname(notFfmpeg), { recursive: true });
    writeFileSync(notFfmpeg, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await e.settings.update({ ffmpegPath: notFfmpeg });
    const [bad] = await e.handlers['settings.check']({ only: ['ffmpeg'] });
    expect(bad).toMatchObject({ check: 'ffmpeg', ok: false, field: 'ffmpegPath' });
    expect(bad!.detail).toContain('does not answer -version as ffmpeg does');
    expect(bad!.fix).toContain('ffmpeg');

    await e.handlers['settings.update']({ ffmpegPath: null });
    const [good] = await e.handlers['settings.check']({ only: ['ffmpeg'] });
    expect(good).toMatchObject({ ok: true });
    expect(good!.detail).toMatch(/^ffmpeg \S+ at \S+ \(from PATH\), with libx264 and ffprobe\.$/);
  });

  it('settings.check asks a worker which providers this onnxruntime build has', async () => {
    const e = await openRunner();
    const [item] = await e.handlers['settings.check']({ only: ['providers'] });
    expect(item).toMatchObject({ check: 'providers', field: 'providers' });
    expect(item!.ok).toBe(true);
    expect(item!.detail).toContain('Usable on this machine:');
    expect(item!.detail).toContain('CPU');
  });
});
