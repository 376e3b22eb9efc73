/**
 * The engine's settings: one typed, validated object kept in `<data>/settings.json`, the source of
 * truth for every front door (the app, `studio serve`, the CLI), since two of them run without
 * Electron.
 *
 * - Reading never fails: a missing file means defaults; an unreadable one means defaults plus a
 *   warning (and a copy kept as settings.json.unreadable); one bad field means that field's default
 *   plus a warning naming it. Keys this version does not know are kept when writing back.
 * - `update(patch)` checks what the schema cannot (a new model folder exists and is a folder) and
 *   names the field in every error, then writes the whole file atomically and tells listeners.
 * - Values given on the command line (`--models`, `--vram-budget`) apply to this run only: they
 *   show as `overrides` and in `effective`, and are never written.
 * - Another process writing the file (`studio settings set` next to the open app) is noticed by
 *   `watch()`, so the change applies there too.
 */
import { copyFileSync, readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { toolFileProblem } from '../media/ffmpeg-locate.ts';
import { StudioError } from '../errors.ts';
import {
  DEFAULT_SETTINGS,
  EDITABLE_SETTING_KEYS,
  EditableSettingsSchema,
} from '../../../src-preload/contract/settings.ts';
import type {
  EditableSettingKey,
  EditableSettings,
  SettingKey,
  SettingProblem,
  Settings,
  SettingsChange,
  SettingsState,
} from '../../../src-preload/contract/settings.ts';

/** Values a front door was started with, for this run only. */
export interface SettingsOverrides {
  /** Added to the stored folders. */
  readonly modelDirs?: readonly string[];
  readonly vramBudgetMb?: number;
  readonly providers?: readonly string[];
  readonly ffmpegPath?: string | null;
}

export interface SettingsStoreOptions {
  /** `<data>/settings.json`. */
  readonly file: string;
  /** `<data>/models`: always scanned, listed first. */
  readonly builtInModelDir: string;
  /** Where the library is now (moved with library.moveRoot, so not stored here). */
  readonly libraryRoot: () => string;
  /** The platform's provider order, for 'auto'. */
  readonly defaultProviders: () => string[];
  readonly overrides?: SettingsOverrides;
  /** Told about unreadable files and fields (also kept in `state().warnings`). */
  readonly warn?: (message: string) => void;
}

/**
 * What the engine's own callers may change: every editable setting. Wider than the contract's
 * SettingsPatch, which cannot name an ffmpeg program (only the app's native chooser and the CLI,
 * which call this directly, can); `libraryRoot` is refused with its sentence.
 */
export type StoreSettingsPatch = Partial<EditableSettings> & { readonly libraryRoot?: unknown };

type Listener = (change: SettingsChange) => void;

interface Loaded {
  readonly values: EditableSettings;
  readonly extra: Record<string, unknown>;
  readonly warnings: string[];
}

/**
 * Keys earlier versions wrote that are no longer settings: the library root lives in the database,
 * and secrets moved to the app's own store (app-settings.json) when this file became the engine's.
 */
const RETIRED_KEYS = new Set(['libraryRoot', 'secrets']);

function describeIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const first = error.issues[0];
  if (!first) return 'is not valid';
  const sub = first.path.length ? ` (item ${first.path.map(String).join('.')})` : '';
  return `${first.message}${sub}`;
}

/** Parses settings.json text leniently: what can be used is used, the rest is explained. */
export function parseSettingsFile(text: string, file: string): Loaded {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return {
      values: { ...DEFAULT_SETTINGS },
      extra: {},
      warnings: [`${file} is not valid JSON (${(e as Error).message}); the default settings are used until you save new ones.`],
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { values: { ...DEFAULT_SETTINGS }, extra: {}, warnings: [`${file} does not hold a settings object; the default settings are used.`] };
  }
  const record = raw as Record<string, unknown>;
  const values: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  const warnings: string[] = [];
  for (const key of EDITABLE_SETTING_KEYS) {
    if (!Object.hasOwn(record, key)) continue;
    // Earlier versions stored the platform default as null.
    const value = key === 'providers' && record[key] === null ? 'auto' : record[key];
    const parsed = EditableSettingsSchema.shape[key].safeParse(value);
    if (parsed.success) values[key] = parsed.data;
    else warnings.push(`${key} in ${file} ${describeIssue(parsed.error)}; the default is used instead.`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (!(EDITABLE_SETTING_KEYS as readonly string[]).includes(k) && !RETIRED_KEYS.has(k)) extra[k] = v;
  }
  return { values: values as EditableSettings, extra, warnings };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class SettingsStore {
  readonly file: string;
  readonly #o: SettingsStoreOptions;
  #values: EditableSettings;
  #extra: Record<string, unknown>;
  #warnings: string[];
  readonly #listeners = new Set<Listener>();
  /** Updates in this process run one after another, each on the latest file. */
  #chain: Promise<unknown> = Promise.resolve();
  #watching = false;
  /** The file as this process last wrote or read it, so its own writes are not taken for another's. */
  #lastText: string | null = null;

  constructor(options: SettingsStoreOptions) {
    this.#o = options;
    this.file = options.file;
    const loaded = this.#load();
    this.#values = loaded.values;
    this.#extra = loaded.extra;
    this.#warnings = loaded.warnings;
    for (const w of loaded.warnings) options.warn?.(w);
  }

  #load(): Loaded {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        this.#lastText = null;
        return { values: { ...DEFAULT_SETTINGS }, extra: {}, warnings: [] };
      }
      return { values: { ...DEFAULT_SETTINGS }, extra: {}, warnings: [`${this.file} could not be read (${(e as Error).message}); the default settings are used.`] };
    }
    this.#lastText = text;
    const loaded = parseSettingsFile(text, this.file);
    if (loaded.warnings.length > 0 && Object.keys(loaded.values).every((k) => same(loaded.values[k as EditableSettingKey], DEFAULT_SETTINGS[k as EditableSettingKey]))) {
      // Nothing usable: keep the user's text before a save replaces it.
      try {
        copyFileSync(this.file, `${this.file}.unreadable`);
        loaded.warnings[0] += ` A copy of the unreadable file is kept as ${this.file}.unreadable.`;
      } catch {
        // the warning still says what happened
      }
    }
    return loaded;
  }

  get<K extends SettingKey>(key: K): Settings[K] {
    if (key === 'libraryRoot') return this.#o.libraryRoot() as Settings[K];
    return structuredClone(this.#values[key as EditableSettingKey]) as Settings[K];
  }

  all(): Settings {
    return { ...structuredClone(this.#values), libraryRoot: this.#o.libraryRoot() };
  }

  /** What this run uses: stored values, the command line's on top, 'auto' resolved. */
  effective(): SettingsState['effective'] {
    const o = this.#o.overrides ?? {};
    const v = this.#values;
    const providers = o.providers ?? (v.providers === 'auto' ? this.#o.defaultProviders() : v.providers);
    return {
      modelDirs: [...new Set([this.#o.builtInModelDir, ...v.modelDirs, ...(o.modelDirs ?? [])].map((d) => resolve(d)))],
      providers: [...providers],
      vramBudgetMb: o.vramBudgetMb ?? v.vramBudgetMb,
      ffmpegPath: o.ffmpegPath !== undefined ? o.ffmpegPath : v.ffmpegPath,
      previewEvery: v.previewEvery,
      workerIdleMinutes: v.workerIdleMinutes,
    };
  }

  overrides(): Partial<EditableSettings> {
    const o = this.#o.overrides ?? {};
    const out: Record<string, unknown> = {};
    if (o.modelDirs?.length) out.modelDirs = o.modelDirs.map((d) => resolve(d));
    if (o.vramBudgetMb !== undefined) out.vramBudgetMb = o.vramBudgetMb;
    if (o.providers !== undefined) out.providers = [...o.providers];
    if (o.ffmpegPath !== undefined) out.ffmpegPath = o.ffmpegPath;
    return out as Partial<EditableSettings>;
  }

  /** Stored values that need the user's attention now (a model folder on an unplugged drive). */
  problems(): SettingProblem[] {
    const problems: SettingProblem[] = [];
    this.#values.modelDirs.forEach((dir, i) => {
      const message = folderProblem(dir);
      if (message) problems.push({ field: `modelDirs.${i}`, message });
    });
    return problems;
  }

  state(): SettingsState {
    return {
      values: this.all(),
      overrides: this.overrides(),
      effective: this.effective(),
      builtInModelDir: resolve(this.#o.builtInModelDir),
      platformProviders: this.#o.defaultProviders(),
      problems: this.problems(),
      warnings: [...this.#warnings],
      file: this.file,
    };
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Changes the given settings and keeps the others. Throws StudioError('invalid_setting') naming
   * the field (`modelDirs.1`, `ffmpegPath`…) when a value is refused; nothing is written then.
   */
  update(patch: StoreSettingsPatch): Promise<SettingsChange> {
    const run = this.#chain.then(() => this.#update(patch));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #update(patch: StoreSettingsPatch): Promise<SettingsChange> {
    if (patch.libraryRoot !== undefined) {
      throw new StudioError('invalid_setting', 'libraryRoot is changed by moving the library (Settings → Library → Move…), not set here.', { field: 'libraryRoot' });
    }
    const { libraryRoot: _readOnly, ...rest } = patch;
    const parsed = EditableSettingsSchema.partial().safeParse(rest);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.') || 'settings';
      throw new StudioError('invalid_setting', `${field} ${issue.message}`, { field });
    }
    const next: Partial<EditableSettings> = { ...parsed.data };
    if (next.modelDirs) next.modelDirs = next.modelDirs.map((d) => resolve(d));
    if (next.modelDirs && new Set(next.modelDirs).size !== next.modelDirs.length) {
      throw new StudioError('invalid_setting', 'modelDirs lists the same folder twice', { field: 'modelDirs' });
    }
    if (typeof next.ffmpegPath === 'string') next.ffmpegPath = resolve(next.ffmpegPath);

    // Another process may have written since we read: start from the file as it is now.
    this.#reloadQuietly();
    await this.#checkNewFolders(next);

    const before = this.#values;
    const after: EditableSettings = { ...before, ...next };
    const changed = EDITABLE_SETTING_KEYS.filter((k) => !same(before[k], after[k]));
    if (changed.length > 0) {
      const text = `${JSON.stringify({ ...this.#extra, ...after }, null, 2)}\n`;
      try {
        await writeFileAtomic(this.file, text);
      } catch (e) {
        throw new StudioError('settings_not_saved', `The settings could not be saved: ${(e as Error).message}`, { cause: e });
      }
      this.#lastText = text;
      this.#values = after;
      this.#warnings = [];
    }
    const change: SettingsChange = { changed, state: this.state() };
    if (changed.length > 0) this.#tell(change);
    return change;
  }

  /** New model folders must exist; folders already in the list may be missing (an unplugged drive). */
  async #checkNewFolders(next: Partial<EditableSettings>): Promise<void> {
    const known = new Set(this.#values.modelDirs);
    for (const [i, dir] of (next.modelDirs ?? []).entries()) {
      if (known.has(dir)) continue;
      const problem = await folderProblemAsync(dir);
      if (problem) throw new StudioError('invalid_setting', `${dir}: ${problem}`, { field: `modelDirs.${i}` });
    }
    if (typeof next.ffmpegPath === 'string' && next.ffmpegPath !== this.#values.ffmpegPath) {
      const info = await stat(next.ffmpegPath).catch(() => null);
      if (!info) {
        throw new StudioError(
          'invalid_setting',
          `Nothing is at ${next.ffmpegPath}. Give the path of the ffmpeg program (or the folder holding it), or clear the field to use ffmpeg from PATH.`,
          { field: 'ffmpegPath' },
        );
      }
      // A folder is searched for ffmpeg when it is checked; a file must look like ffmpeg now.
      const problem = info.isDirectory() ? null : await toolFileProblem(next.ffmpegPath, 'ffmpeg');
      if (problem) {
        throw new StudioError('invalid_setting', `${problem} Choose the ffmpeg program itself (or the folder holding it).`, { field: 'ffmpegPath' });
      }
    }
  }

  /** Picks up another process's write; returns the keys whose values changed. */
  #reloadQuietly(): EditableSettingKey[] {
    let text: string | null;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      text = null;
    }
    if (text === this.#lastText) return [];
    const loaded = this.#load();
    const changed = EDITABLE_SETTING_KEYS.filter((k) => !same(this.#values[k], loaded.values[k]));
    this.#values = loaded.values;
    this.#extra = loaded.extra;
    this.#warnings = loaded.warnings;
    for (const w of loaded.warnings) this.#o.warn?.(w);
    return changed;
  }

  /** Notices writes by other processes (polling the file's stat once a second; never keeps the process alive). */
  watch(intervalMs = 1000): void {
    if (this.#watching) return;
    this.#watching = true;
    watchFile(this.file, { interval: intervalMs, persistent: false }, this.#onFileChange);
  }

  readonly #onFileChange = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    // Run after any update in flight, so a write of ours is never read half-way through.
    this.#chain = this.#chain.then(() => {
      const changed = this.#reloadQuietly();
      if (changed.length > 0) this.#tell({ changed, state: this.state() });
    });
  };

  close(): void {
    if (this.#watching) unwatchFile(this.file, this.#onFileChange);
    this.#watching = false;
    this.#listeners.clear();
  }

  #tell(change: SettingsChange): void {
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch {
        // one failing listener must not stop the others
      }
    }
  }
}

/** Why a model folder cannot be scanned, in plain words; null when it can. */
export function folderProblem(dir: string): string | null {
  let info: Stats;
  try {
    info = statSync(dir);
  } catch (e) {
    return explain(e);
  }
  return info.isDirectory() ? null : 'this is a file, not a folder. Choose the folder that holds the model folders.';
}

async function folderProblemAsync(dir: string): Promise<string | null> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return 'this is a file, not a folder. Choose the folder that holds the model folders.';
    await access(dir, constants.R_OK | constants.X_OK);
    return null;
  } catch (e) {
    return explain(e);
  }
}

function explain(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'this folder does not exist. Check the path (a drive that is not connected?), or create the folder first.';
    case 'EACCES':
    case 'EPERM':
      return 'this folder cannot be read (permission denied). Allow your user to read it, or choose another.';
    default:
      return `this folder cannot be read (${(e as Error).message}).`;
  }
}
