/**
 * `studio settings list | get | set` as a user or a script runs them, and `studio models list`
 * honouring the model folders stored in Settings.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingsState } from '../../src-preload/contract/settings.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let data: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'studio-settings-cli-'));
  data = path.join(root, 'data');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const run = (...args: string[]) => studio(['--data', data, ...args], { env: { STUDIO_DATA_DIR: '' } });

function modelFolder(name: string, model: string): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, model), { recursive: true });
  writeFileSync(path.join(dir, model, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' }));
  return dir;
}

describe('studio settings', () => {
  it('lists every setting with its value, the always-scanned models folder and the read-only library', async () => {
    const list = await run('settings', 'list');
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^SETTING\s+VALUE\s+NOTE$/);
    for (const key of ['modelDirs', 'providers', 'vramBudgetMb', 'ffmpegPath', 'previewEvery', 'workerIdleMinutes', 'libraryRoot']) {
      expect(lines.some((l) => l.startsWith(`${key} `)), key).toBe(true);
    }
    expect(list.stdout).toContain(`${path.join(data, 'models')} (always)`);
    expect(list.stdout).toMatch(/libraryRoot\s+\S+library\s+read-only/);
    expect(list.stdout).toContain(`File: ${path.join(data, 'settings.json')}`);
  });

  it('sets and gets values, accepting kebab-case keys, relative folders and "auto"', async () => {
    const models = modelFolder('models-a', 'sdxl-base');
    const set = await studio(['--data', data, 'settings', 'set', 'model-dirs', path.relative(process.cwd(), models)], { env: { STUDIO_DATA_DIR: '' } });
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`modelDirs = ${models}\n`);
    expect((await run('settings', 'get', 'modelDirs')).stdout).toBe(`${models}\n`);

    expect((await run('settings', 'set', 'vramBudgetMb', '12000')).code).toBe(0);
    expect((await run('settings', 'get', 'vram-budget-mb')).stdout).toBe('12000\n');
    expect((await run('settings', 'set', 'vramBudgetMb', 'auto')).stdout).toBe('vramBudgetMb = auto\n');

    expect((await run('settings', 'set', 'providers', 'cuda,cpu')).stdout).toBe('providers = cuda,cpu\n');
    const json = await run('settings', 'get', 'providers', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ key: 'providers', value: ['cuda', 'cpu'] });

    const stored = JSON.parse(readFileSync(path.join(data, 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ modelDirs: [models], vramBudgetMb: null, providers: ['cuda', 'cpu'] });
  });

  it('prints the whole state as JSON for scripts', async () => {
    const out = await run('settings', 'list', '--json');
    expect(out.code).toBe(0);
    const state = JSON.parse(out.stdout) as SettingsState;
    expect(state.values.previewEvery).toBe(1);
    expect(state.builtInModelDir).toBe(path.join(data, 'models'));
  });

  it('refuses bad values with exit 2, naming the setting, and changes nothing', async () => {
    const low = await run('settings', 'set', 'vramBudgetMb', '100');
    expect(low.code).toBe(2);
    expect(low.stderr).toBe('error: vramBudgetMb: must be at least 512 MB\n');

    const missing = await run('settings', 'set', 'modelDirs', path.join(root, 'nowhere'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${path.join(root, 'nowhere')}: this folder does not exist`);

    const provider = await run('settings', 'set', 'providers', 'tensorrt');
    expect(provider.code).toBe(2);
    expect(provider.stderr).toBe(`error: providers: 'tensorrt' is not a provider this app knows; give "auto" or an order of cuda, dml, webgpu, cpu\n`);
    const twice = await run('settings', 'set', 'providers', 'cpu,cpu');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('lists a provider twice');

    const unknown = await run('settings', 'get', 'gpuName');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown setting 'gpuName'");

    const library = await run('settings', 'set', 'libraryRoot', root);
    expect(library.code).toBe(2);
    expect(library.stderr).toContain('Move…');

    const asJson = await run('settings', 'set', 'previewEvery', 'often', '--json');
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'usage', message: expect.stringContaining('previewEvery must be a whole number') } });

    expect((await run('settings', 'list', '--json')).stdout).toContain('"vramBudgetMb": null');
  });

  it('models list and generate look in the stored model folders; --models adds one for that run only', async () => {
    const stored = modelFolder('stored', 'juggernaut-xl');
    const extra = modelFolder('extra', 'sdxl-turbo');
    expect((await run('settings', 'set', 'modelDirs', stored)).code).toBe(0);

    const models = await run('models', 'list', '--json');
    expect((JSON.parse(models.stdout) as { id: string }[]).map((m) => m.id)).toEqual(['juggernaut-xl']);

    const both = await run('--models', extra, 'models', 'list', '--json');
    expect((JSON.parse(both.stdout) as { id: string }[]).map((m) => m.id).sort()).toEqual(['juggernaut-xl', 'sdxl-turbo']);
    expect((await run('settings', 'get', 'modelDirs')).stdout).toBe(`${stored}\n`);

    // A job waiting for a model is told where the studio looked, stored folders included.
    const gen = await run('generate', '--type', 'sdxl_image_fast', '--prompt', 'a fox', '--wait');
    expect(gen.code).toBe(1);
    expect(gen.stderr).toContain(stored);
  });
});
