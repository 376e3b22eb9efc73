/**
 * `studio settings list | get KEY | set KEY VALUE`: the same settings the app's Settings view shows
 * (the engine's `<data>/settings.json`). A change made here reaches an open app or `studio serve`
 * within a second, and applies there at once.
 *
 * `set` writes through the engine's settings store, not the `settings.update` channel: a person at
 * their own shell may name the ffmpeg program, which the window and a browser may not.
 */
import { delimiter, resolve } from 'node:path';
import { describeIssues } from '../../src-preload/contract/index.ts';
import { EditableSettingsSchema, PROVIDER_NAMES, SETTING_KEYS } from '../../src-preload/contract/settings.ts';
import type { SettingKey, SettingsState } from '../../src-preload/contract/settings.ts';
import { StudioError } from '../engine/errors.ts';
import type { StoreSettingsPatch } from '../engine/settings/store.ts';
import type { CommandContext } from './commands.ts';
import { invoke } from './dispatch.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import type { CliEngine } from './io.ts';
import { renderTable } from './render.ts';

/** What each key takes on the command line, for errors and help. */
export const SETTING_VALUE_HELP: Readonly<Record<SettingKey, string>> = {
  modelDirs: `folders separated by "${delimiter}" (or a JSON list); "" for none besides the data folder's models/`,
  providers: `"auto", or a comma-separated order of ${PROVIDER_NAMES.join(', ')}`,
  vramBudgetMb: 'MB, or "auto" to measure with nvidia-smi',
  ffmpegPath: 'the ffmpeg program or its folder, or "auto" for ffmpeg from PATH',
  previewEvery: 'a live preview every N steps (1 = every step)',
  workerIdleMinutes: 'minutes before an idle worker exits and frees GPU memory (0 = never)',
  libraryRoot: 'read-only here: move the library with the app (Settings → Library → Move…)',
};

/** `modelDirs`, `model-dirs` and `modeldirs` all name the same key. */
export function settingKey(raw: string): SettingKey {
  const wanted = raw.replace(/[-_]/g, '').toLowerCase();
  const key = SETTING_KEYS.find((k) => k.toLowerCase() === wanted);
  if (!key) throw new UsageError(`unknown setting '${raw}'. Settings: ${SETTING_KEYS.join(', ')}.`, 'KEY');
  return key;
}

function wholeNumber(key: SettingKey, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${key} must be a whole number: ${SETTING_VALUE_HELP[key]} (got ${JSON.stringify(raw)})`, 'VALUE');
  return Number(raw.trim());
}

const CLEAR = new Set(['auto', 'null', 'none', '']);

/** The patch `studio settings set KEY VALUE` sends. Relative paths are taken from the current folder. */
export function settingPatch(key: SettingKey, raw: string, cwd: string): StoreSettingsPatch {
  switch (key) {
    case 'modelDirs': {
      let list: unknown;
      if (raw.trim().startsWith('[')) {
        try {
          list = JSON.parse(raw);
        } catch {
          throw new UsageError(`modelDirs: ${JSON.stringify(raw)} is not a JSON list of folders`, 'VALUE');
        }
        if (!Array.isArray(list) || !list.every((d) => typeof d === 'string')) throw new UsageError('modelDirs: the JSON must be a list of folder paths', 'VALUE');
      } else {
        list = raw.split(delimiter);
      }
      const dirs = (list as string[]).map((d) => d.trim()).filter((d) => d !== '');
      return { modelDirs: dirs.map((d) => resolve(cwd, d)) };
    }
    case 'providers': {
      const value = raw.trim().toLowerCase();
      if (value === 'auto') return { providers: 'auto' };
      const list = value.split(',').map((p) => p.trim()).filter((p) => p !== '').map((p) => (p === 'directml' ? 'dml' : p));
      const unknown = list.find((p) => !(PROVIDER_NAMES as readonly string[]).includes(p));
      if (unknown !== undefined) {
        throw new UsageError(`providers: '${unknown}' is not a provider this app knows; give "auto" or an order of ${PROVIDER_NAMES.join(', ')}`, 'VALUE');
      }
      return { providers: list as (typeof PROVIDER_NAMES)[number][] };
    }
    case 'vramBudgetMb':
      return { vramBudgetMb: CLEAR.has(raw.trim().toLowerCase()) ? null : wholeNumber(key, raw) };
    case 'ffmpegPath':
      return { ffmpegPath: CLEAR.has(raw.trim().toLowerCase()) ? null : resolve(cwd, raw.trim()) };
    case 'previewEvery':
      return { previewEvery: wholeNumber(key, raw) };
    case 'workerIdleMinutes':
      return { workerIdleMinutes: wholeNumber(key, raw) };
    case 'libraryRoot':
      throw new UsageError(
        'libraryRoot cannot be set: the library is moved (files and all) with Settings → Library → Move… in the app, or the library.moveRoot call.',
        'KEY',
      );
  }
}

/** The value as a person reads it. */
export function formatSetting(key: SettingKey, state: SettingsState): string {
  const v = state.values[key];
  switch (key) {
    case 'modelDirs':
      return (v as readonly string[]).length ? (v as readonly string[]).join('\n') : '';
    case 'providers':
      return v === 'auto' ? `auto (${state.effective.providers.join(', ')})` : (v as readonly string[]).join(',');
    case 'vramBudgetMb':
      return v === null ? 'auto' : String(v);
    case 'ffmpegPath':
      return v === null ? 'auto' : String(v);
    default:
      return String(v);
  }
}

function listTable(state: SettingsState): string {
  const o = state.overrides as Record<string, unknown>;
  const rows = SETTING_KEYS.map((key) => {
    let value = formatSetting(key, state);
    if (key === 'modelDirs') value = [state.builtInModelDir + ' (always)', ...state.values.modelDirs].join(', ');
    const notes: string[] = [];
    if (key === 'modelDirs' && o.modelDirs !== undefined) notes.push(`this run also scans ${(o.modelDirs as string[]).join(', ')} (--models)`);
    else if (o[key] !== undefined) notes.push(`this run uses ${Array.isArray(o[key]) ? (o[key] as string[]).join(',') : String(o[key])} (command line)`);
    for (const p of state.problems) if (p.field === key || p.field.startsWith(`${key}.`)) notes.push(p.message);
    if (key === 'libraryRoot') notes.push('read-only (Move… in the app)');
    return [key, value, notes.join('; ')];
  });
  return renderTable(['SETTING', 'VALUE', 'NOTE'], rows);
}

/** Runs `fn` with an engine opened as a client of the data folder, closing it after. */
export type WithEngine = (fn: (engine: CliEngine) => Promise<number>) => Promise<number>;

export async function settingsCommand(ctx: CommandContext, withEngine: WithEngine): Promise<number> {
  const { line, io } = ctx;
  const json = line.global.json;
  const print = (text: string): void => {
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const warn = (state: SettingsState): void => {
    if (!json) for (const w of state.warnings) io.stderr.write(`warning: ${w}\n`);
  };

  switch (line.command) {
    case 'settings list':
      return withEngine(async (engine) => {
        const state = await invoke(engine.handlers, 'settings.get', undefined);
        warn(state);
        if (json) io.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        else print(`${listTable(state)}\n\nFile: ${state.file}`);
        return EXIT.ok;
      });
    case 'settings get': {
      const key = settingKey(line.args[0]!);
      return withEngine(async (engine) => {
        const state = await invoke(engine.handlers, 'settings.get', undefined);
        warn(state);
        if (json) io.stdout.write(`${JSON.stringify({ key, value: state.values[key] }, null, 2)}\n`);
        else print(formatSetting(key, state));
        return EXIT.ok;
      });
    }
    case 'settings set': {
      const key = settingKey(line.args[0]!);
      const patch = settingPatch(key, line.args[1]!, process.cwd());
      return withEngine(async (engine) => {
        let state: SettingsState;
        try {
          if (!engine.settings) throw new Error('this engine has no settings store to write to');
          // The contract's field rules and sentences, as the channel would give them.
          const parsed = EditableSettingsSchema.partial().safeParse(patch);
          if (!parsed.success) throw describeIssues(parsed.error);
          state = (await engine.settings.update(patch)).state;
        } catch (e) {
          // A value the engine refuses is a usage mistake: nothing was changed.
          if (e instanceof StudioError && e.code === 'invalid_setting') throw new UsageError(e.message, e.field ?? key);
          throw e;
        }
        if (json) io.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        else {
          const value = formatSetting(key, state);
          print(`${key} = ${value.includes('\n') ? value.split('\n').join(', ') : value || '(none)'}`);
          const problems = state.problems.filter((p) => p.field === key || p.field.startsWith(`${key}.`));
          for (const p of problems) io.stderr.write(`note: ${p.field}: ${p.message}\n`);
          if (key !== 'modelDirs' && (state.overrides as Record<string, unknown>)[key] !== undefined) {
            io.stderr.write(`note: this run uses the value given on the command line instead; the stored value applies from the next run.\n`);
          }
        }
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(`unknown settings command ${line.command}`);
  }
}
