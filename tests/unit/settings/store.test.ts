/**
 * The engine's settings file: what a user who sets something finds again after a restart, what a
 * hand-broken file does (defaults and a warning, never a crash), and the sentences refused values get.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../../src-main/engine/settings/store.ts';
import type { SettingsOverrides } from '../../../src-main/engine/settings/store.ts';
import { thinPreview } from '../../../src-main/engine/settings/live.ts';
import { DEFAULT_SETTINGS, SettingsPatchSchema } from '../../../src-preload/contract/settings.ts';
import type { SettingsChange } from '../../../src-preload/contract/settings.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'studio-settings-'));
  file = path.join(dir, 'settings.json');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function open(overrides?: SettingsOverrides, warnings: string[] = []): SettingsStore {
  return new SettingsStore({
    file,
    builtInModelDir: path.join(dir, 'models'),
    libraryRoot: () => path.join(dir, 'library'),
    defaultProviders: () => ['cuda', 'webgpu', 'cpu'],
    overrides,
    warn: (w) => warnings.push(w),
  });
}

function folder(name: string): string {
  const p = path.join(dir, name);
  mkdirSync(p, { recursive: true });
  return p;
}

async function refused(store: SettingsStore, patch: Parameters<SettingsStore['update']>[0]) {
  const error = await store.update(patch).then(
    () => null,
    (e: unknown) => e as { code: string; field: string; message: string },
  );
  expect(error, `expected ${JSON.stringify(patch)} to be refused`).not.toBeNull();
  return error!;
}

describe('settings.json', () => {
  it('starts from the defaults when there is no file, and writes none until something is set', () => {
    const warnings: string[] = [];
    const store = open(undefined, warnings);
    expect(store.all()).toEqual({ ...DEFAULT_SETTINGS, libraryRoot: path.join(dir, 'library') });
    expect(store.state().warnings).toEqual([]);
    expect(warnings).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('keeps what was set across a restart, written whole with no temp files left', async () => {
    const a = folder('sdxl');
    const b = folder('wan');
    const store = open();
    await store.update({ modelDirs: [a, b], vramBudgetMb: 20_000, providers: ['cuda', 'cpu'] });
    await store.update({ ffmpegPath: file.replace('settings.json', ''), previewEvery: 3, workerIdleMinutes: 0 });

    const again = open();
    expect(again.get('modelDirs')).toEqual([a, b]);
    expect(again.get('vramBudgetMb')).toBe(20_000);
    expect(again.get('providers')).toEqual(['cuda', 'cpu']);
    expect(again.get('ffmpegPath')).toBe(dir);
    expect(again.get('previewEvery')).toBe(3);
    expect(again.get('workerIdleMinutes')).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ vramBudgetMb: 20_000, previewEvery: 3 });
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('reads a file that is not JSON as the defaults, says so, and keeps a copy of it', async () => {
    writeFileSync(file, '{ "vramBudgetMb": 8000, oops');
    const warnings: string[] = [];
    const store = open(undefined, warnings);
    expect(store.get('vramBudgetMb')).toBeNull();
    expect(store.state().warnings).toHaveLength(1);
    expect(store.state().warnings[0]).toMatch(/settings\.json is not valid JSON.*default settings are used/);
    expect(warnings).toEqual(store.state().warnings);
    expect(readFileSync(`${file}.unreadable`, 'utf8')).toBe('{ "vramBudgetMb": 8000, oops');

    // Saving writes a good file again, and the warning is gone.
    const state = (await store.update({ vramBudgetMb: 9000 })).state;
    expect(state.warnings).toEqual([]);
    expect(open().get('vramBudgetMb')).toBe(9000);
  });

  it('uses the default for one bad field, keeps the others, and names the field', () => {
    const models = folder('models-a');
    writeFileSync(file, JSON.stringify({ modelDirs: [models], vramBudgetMb: 'lots', previewEvery: 0 }));
    const store = open();
    expect(store.get('modelDirs')).toEqual([models]);
    expect(store.get('vramBudgetMb')).toBeNull();
    expect(store.get('previewEvery')).toBe(1);
    const warnings = store.state().warnings.join('\n');
    expect(warnings).toContain('vramBudgetMb in');
    expect(warnings).toContain('previewEvery in');
    expect(existsSync(`${file}.unreadable`)).toBe(false);
  });

  it('reads the file the app wrote before (providers null, secrets, libraryRoot) and drops what is no longer a setting', async () => {
    writeFileSync(file, JSON.stringify({ modelDirs: [], vramBudgetMb: 12_000, providers: null, ffmpegPath: null, libraryRoot: null, secrets: { s: 'x' }, futureKey: 7 }));
    const store = open();
    expect(store.state().warnings).toEqual([]);
    expect(store.get('providers')).toBe('auto');
    expect(store.get('vramBudgetMb')).toBe(12_000);
    await store.update({ previewEvery: 2 });
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(written).not.toHaveProperty('secrets');
    expect(written).not.toHaveProperty('libraryRoot');
    // A key a newer version wrote survives an older one saving.
    expect(written.futureKey).toBe(7);
  });
});

describe('settings.update', () => {
  it.each([
    [{ vramBudgetMb: 100 }, 'vramBudgetMb', 'vramBudgetMb must be at least 512 MB'],
    [{ vramBudgetMb: 4096.5 }, 'vramBudgetMb', 'vramBudgetMb must be a whole number of MB'],
    [{ modelDirs: ['models/sdxl'] }, 'modelDirs.0', 'modelDirs.0 must be a full path'],
    [{ providers: ['cuda', 'cuda'] }, 'providers', 'lists a provider twice'],
    [{ providers: [] }, 'providers', 'needs at least one provider'],
    [{ previewEvery: 0 }, 'previewEvery', 'previewEvery must be at least 1'],
    [{ workerIdleMinutes: -1 }, 'workerIdleMinutes', 'workerIdleMinutes must be 0 (never) or more minutes'],
  ] as const)('refuses %j, naming the field', async (patch, field, message) => {
    const store = open();
    const error = await refused(store, patch as never);
    expect(error.code).toBe('invalid_setting');
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a model folder that does not exist, or a file, in plain words, and changes nothing', async () => {
    const good = folder('good');
    const store = open();
    await store.update({ modelDirs: [good] });
    const before = readFileSync(file, 'utf8');

    const missing = await refused(store, { modelDirs: [good, path.join(dir, 'nowhere')] });
    expect(missing).toMatchObject({ code: 'invalid_setting', field: 'modelDirs.1' });
    expect(missing.message).toBe(`${path.join(dir, 'nowhere')}: this folder does not exist. Check the path (a drive that is not connected?), or create the folder first.`);

    writeFileSync(path.join(dir, 'a-file'), 'x');
    const notFolder = await refused(store, { modelDirs: [path.join(dir, 'a-file')] });
    expect(notFolder.field).toBe('modelDirs.0');
    expect(notFolder.message).toContain('this is a file, not a folder');

    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(store.get('modelDirs')).toEqual([good]);
  });

  it('keeps a listed folder that has gone missing, and shows it as a problem', async () => {
    const external = folder('external-drive');
    const other = folder('other');
    const store = open();
    await store.update({ modelDirs: [external] });
    rmSync(external, { recursive: true });
    expect(store.state().problems).toEqual([{ field: 'modelDirs.0', message: expect.stringContaining('does not exist') }]);
    // Adding another folder does not force the missing one out.
    await store.update({ modelDirs: [external, other] });
    expect(store.get('modelDirs')).toEqual([external, other]);
  });

  it('refuses to set the library folder here, and says how to move it', async () => {
    const store = open();
    const error = await refused(store, { libraryRoot: '/elsewhere' } as never);
    expect(error.field).toBe('libraryRoot');
    expect(error.message).toContain('Move…');
    expect(SettingsPatchSchema.safeParse({ libraryRoot: '/x' }).success).toBe(false);
  });

  it('refuses an ffmpeg path where nothing is, and accepts clearing it', async () => {
    const store = open();
    const error = await refused(store, { ffmpegPath: path.join(dir, 'no-ffmpeg') });
    expect(error.field).toBe('ffmpegPath');
    expect(error.message).toContain('clear the field to use ffmpeg from PATH');
    await store.update({ ffmpegPath: null });
    expect(store.get('ffmpegPath')).toBeNull();
  });

  it.skipIf(process.platform === 'win32')('refuses a file that is not an ffmpeg program (by name and kind), and keeps one that is', async () => {
    const store = open();
    const sh = path.join(folder('bin'), 'sh');
    writeFileSync(sh, '#!/bin/sh\n', { mode: 0o755 });
    const error = await refused(store, { ffmpegPath: sh });
    expect(error).toMatchObject({ code: 'invalid_setting', field: 'ffmpegPath' });
    expect(error.message).toBe(`${sh} is not an ffmpeg program: only a file named ffmpeg is run as ffmpeg (this one is named sh). Choose the ffmpeg program itself (or the folder holding it).`);
    const notExecutable = path.join(folder('plain'), 'ffmpeg');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    expect((await refused(store, { ffmpegPath: notExecutable })).message).toContain('is not executable');
    expect(store.get('ffmpegPath')).toBeNull();
    expect(existsSync(file)).toBe(false);

    const ffmpeg = path.join(folder('build'), 'ffmpeg');
    writeFileSync(ffmpeg, '#!/bin/sh\n', { mode: 0o755 });
    await store.update({ ffmpegPath: ffmpeg });
    expect(store.get('ffmpegPath')).toBe(ffmpeg);
  });

  it('tells listeners which settings changed, and nothing when a value is set to what it was', async () => {
    const store = open();
    const changes: SettingsChange[] = [];
    store.onChange((c) => changes.push(c));
    await store.update({ vramBudgetMb: 6000, previewEvery: 1 });
    await store.update({ vramBudgetMb: 6000 });
    expect(changes.map((c) => c.changed)).toEqual([['vramBudgetMb']]);
    expect(changes[0]!.state.effective.vramBudgetMb).toBe(6000);
  });
});

describe('values given on the command line', () => {
  it('add model folders and override the budget for this run, and are never written', async () => {
    const stored = folder('stored');
    const extra = folder('extra');
    const store = open({ modelDirs: [extra], vramBudgetMb: 4096 });
    await store.update({ modelDirs: [stored], vramBudgetMb: 16_000 });
    const state = store.state();
    expect(state.effective.modelDirs).toEqual([path.join(dir, 'models'), stored, extra]);
    expect(state.effective.vramBudgetMb).toBe(4096);
    expect(state.overrides).toEqual({ modelDirs: [extra], vramBudgetMb: 4096 });
    expect(state.values.vramBudgetMb).toBe(16_000);
    const written = JSON.parse(readFileSync(file, 'utf8')) as { modelDirs: string[]; vramBudgetMb: number };
    expect(written.modelDirs).toEqual([stored]);
    expect(written.vramBudgetMb).toBe(16_000);
  });

  it("resolve 'auto' providers to the platform order", () => {
    expect(open().effective().providers).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(open({ providers: ['cpu'] }).effective().providers).toEqual(['cpu']);
  });
});

describe('another process writing settings.json', () => {
  it('is noticed, and the change is told to listeners', async () => {
    const store = open();
    store.watch(20);
    const seen: SettingsChange[] = [];
    store.onChange((c) => seen.push(c));
    try {
      // What `studio settings set` does from another process.
      await open().update({ vramBudgetMb: 7000 });
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
      expect(seen[0]!.changed).toEqual(['vramBudgetMb']);
      expect(store.get('vramBudgetMb')).toBe(7000);
    } finally {
      store.close();
    }
  });
});

describe('previews every N steps', () => {
  const event = (step: number) => ({ jobId: 'j', step, of: 10, stage: 'denoising', preview: 'data:image/png;base64,AA', etaMs: null });
  it('keeps every Nth preview and the last, and every step count', () => {
    const kept = Array.from({ length: 10 }, (_, i) => thinPreview(event(i + 1), 4));
    expect(kept.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(kept.filter((e) => e.preview !== null).map((e) => e.step)).toEqual([4, 8, 10]);
    expect(thinPreview(event(3), 1).preview).not.toBeNull();
  });
});
