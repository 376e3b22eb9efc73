/**
 * Settings channels and shapes. The engine keeps the settings (`settings.json` in the data folder),
 * so the app, `studio serve` and the CLI read and change the same values; spread into the one
 * contract in channels.ts. The engine implements them in src-main/engine/settings/.
 *
 * No Node import here: the renderer reads this file too.
 */
import { z } from 'zod';

/** Ties a params schema to a result type that exists only for the type checker (as channels.ts does). */
function channel<R>() {
  return <S extends z.ZodType>(params: S) => ({ params, result: undefined as unknown as R });
}

/** Execution providers by onnxruntime-node's names, fastest first. */
export const PROVIDER_NAMES = ['cuda', 'dml', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const PROVIDER_LABELS: Readonly<Record<ProviderName, string>> = {
  cuda: 'CUDA (NVIDIA)',
  dml: 'DirectML (Windows)',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

export const SETTINGS_LIMITS = {
  modelDirs: 32,
  vramMinMb: 512,
  vramMaxMb: 1_048_576,
  previewEveryMax: 100,
  workerIdleMinutesMax: 1440,
} as const;

/** `/models`, `C:\models`, `C:/models` or `\\server\share`: a path that does not depend on a working folder. */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

const FullPath = z
  .string()
  .trim()
  .min(1, { error: 'needs a folder path' })
  .max(4096, { error: 'is longer than 4096 characters' })
  .refine(isAbsolutePath, { error: 'must be a full path (starting with / or a drive letter such as C:\\)' });

const noRepeats = (list: readonly string[]) => new Set(list).size === list.length;

/** What the user edits. `libraryRoot` is not among them: the library is moved with `library.moveRoot`. */
export const EditableSettingsSchema = z.strictObject({
  /** Extra folders scanned for ONNX model folders (the data folder's models/ is always scanned). */
  modelDirs: z
    .array(FullPath)
    .max(SETTINGS_LIMITS.modelDirs, { error: `holds at most ${SETTINGS_LIMITS.modelDirs} folders` })
    .refine(noRepeats, { error: 'lists the same folder twice' }),
  /** Execution providers in the order to try them; 'auto': the platform's default order. */
  providers: z.union([
    z.literal('auto'),
    z
      .array(z.enum(PROVIDER_NAMES, { error: `must be one of ${PROVIDER_NAMES.join(', ')}` }))
      .min(1, { error: 'needs at least one provider (add cpu to always have one that works)' })
      .refine(noRepeats, { error: 'lists a provider twice' }),
  ], { error: `must be "auto" or a list of ${PROVIDER_NAMES.join(', ')}` }),
  /** null: measured with nvidia-smi (total minus a reserve), else 8192 MB. */
  vramBudgetMb: z
    .number({ error: 'must be a number of MB' })
    .int({ error: 'must be a whole number of MB' })
    .min(SETTINGS_LIMITS.vramMinMb, { error: `must be at least ${SETTINGS_LIMITS.vramMinMb} MB` })
    .max(SETTINGS_LIMITS.vramMaxMb, { error: `must be at most ${SETTINGS_LIMITS.vramMaxMb} MB` })
    .nullable(),
  /** The ffmpeg binary or the folder holding it; null: ffmpeg from PATH. */
  ffmpegPath: FullPath.nullable(),
  /** A live preview every N denoising steps (1: every step). */
  previewEvery: z
    .number({ error: 'must be a number of steps' })
    .int({ error: 'must be a whole number of steps' })
    .min(1, { error: 'must be at least 1 (a preview every step)' })
    .max(SETTINGS_LIMITS.previewEveryMax, { error: `must be at most ${SETTINGS_LIMITS.previewEveryMax} steps` }),
  /** An idle inference worker exits (freeing its GPU memory) after this many minutes; 0: never. */
  workerIdleMinutes: z
    .number({ error: 'must be a number of minutes' })
    .int({ error: 'must be a whole number of minutes' })
    .min(0, { error: 'must be 0 (never) or more minutes' })
    .max(SETTINGS_LIMITS.workerIdleMinutesMax, { error: `must be at most ${SETTINGS_LIMITS.workerIdleMinutesMax} minutes (a day)` }),
});
export type EditableSettings = z.infer<typeof EditableSettingsSchema>;
export type EditableSettingKey = keyof EditableSettings;
export const EDITABLE_SETTING_KEYS = Object.keys(EditableSettingsSchema.shape) as EditableSettingKey[];

export interface Settings extends EditableSettings {
  /** Where the library's files are (read-only here: moved with `library.moveRoot`). */
  readonly libraryRoot: string;
}
export type SettingKey = keyof Settings;
export const SETTING_KEYS = [...EDITABLE_SETTING_KEYS, 'libraryRoot'] as const satisfies readonly SettingKey[];

export const DEFAULT_SETTINGS: Readonly<EditableSettings> = Object.freeze({
  modelDirs: [],
  providers: 'auto',
  vramBudgetMb: null,
  ffmpegPath: null,
  previewEvery: 1,
  workerIdleMinutes: 10,
});

/**
 * Why `settings.update` takes no ffmpeg program: the engine runs the file the setting names, so a
 * string here would let whatever drives the window (or a browser holding serve's token) run any
 * program on the machine. The program is chosen where a person is certainly at the keyboard: the
 * app's native file dialog (main sets it) or the `studio` CLI. Clearing it is harmless and allowed.
 */
export const FFMPEG_PATH_NOT_FROM_WINDOW =
  'ffmpegPath cannot be set by the studio window or a browser, because the program it names is run. ' +
  'Choose it with Settings → Video → Choose ffmpeg… in the app, or run `studio settings set ffmpegPath /path/to/ffmpeg` ' +
  '(clearing it, to use ffmpeg from PATH, works from here).';

export const SettingsPatchSchema = z.strictObject({
  ...EditableSettingsSchema.partial().shape,
  ffmpegPath: z.null({ error: FFMPEG_PATH_NOT_FROM_WINDOW }).optional(),
  libraryRoot: z
    .never({ error: 'is changed by moving the library (Settings → Library → Move…, or library.moveRoot), not set here' })
    .optional(),
});
export type SettingsPatch = z.input<typeof SettingsPatchSchema>;

/** A stored value that needs the user's attention, e.g. a model folder that is gone. */
export interface SettingProblem {
  /** `modelDirs.2`, `ffmpegPath`, … */
  readonly field: string;
  readonly message: string;
}

export interface SettingsState {
  /** The stored settings, as the user set them. */
  readonly values: Settings;
  /** Values given on the command line for this run only (`--models`, `--vram-budget`); never stored. */
  readonly overrides: Partial<EditableSettings>;
  /** What this run uses: stored values with the overrides applied and 'auto' resolved. */
  readonly effective: {
    /** Every folder scanned for models, the data folder's own first. */
    readonly modelDirs: readonly string[];
    readonly providers: readonly string[];
    readonly vramBudgetMb: number | null;
    readonly ffmpegPath: string | null;
    readonly previewEvery: number;
    readonly workerIdleMinutes: number;
  };
  /** The data folder's models/ folder, always scanned. */
  readonly builtInModelDir: string;
  /** The provider order 'auto' stands for on this machine. */
  readonly platformProviders: readonly string[];
  readonly problems: readonly SettingProblem[];
  /** Why stored values were not used (an unreadable settings.json), in sentences. */
  readonly warnings: readonly string[];
  /** The settings file, for people who edit it by hand. */
  readonly file: string;
}

export const SETTINGS_CHECKS = ['modelDirs', 'ffmpeg', 'gpu', 'providers'] as const;
export type SettingsCheckName = (typeof SETTINGS_CHECKS)[number];

export interface SettingsCheckItem {
  readonly check: SettingsCheckName;
  /** What was checked, e.g. "Model folder /mnt/models" or "ffmpeg". */
  readonly item: string;
  /** null: could not be checked from here (says why in `detail`). */
  readonly ok: boolean | null;
  /** What was found: "ffmpeg 5.1.9 at /usr/bin/ffmpeg", "NVIDIA RTX 4090, 24564 MB". */
  readonly detail: string;
  /** What to do about it, when something is wrong. */
  readonly fix: string | null;
  /** The setting the item belongs to, so a view can show it at the field. */
  readonly field: string | null;
}

export const SettingsCheckSchema = z
  .strictObject({
    /** Only these checks (default: all). The providers check may start an inference worker. */
    only: z.array(z.enum(SETTINGS_CHECKS)).min(1).optional(),
  })
  .optional();

/** Pushed after every change to the settings, from any front door. */
export interface SettingsChange {
  readonly changed: readonly SettingKey[];
  readonly state: SettingsState;
}

export const settingsChannels = {
  'settings.get': channel<SettingsState>()(z.strictObject({}).optional()),
  /**
   * Changes the given settings (others stay); applied at once. Errors name the field. `ffmpegPath`
   * may only be cleared here (FFMPEG_PATH_NOT_FROM_WINDOW says where it is set).
   */
  'settings.update': channel<SettingsState>()(SettingsPatchSchema),
  /** Runs the checks again: model folders, ffmpeg, nvidia-smi, the providers this onnxruntime build has. */
  'settings.check': channel<readonly SettingsCheckItem[]>()(SettingsCheckSchema),
} as const;

export interface SettingsEvents {
  'settings.changed': SettingsChange;
}
export const SETTINGS_EVENT_NAMES = ['settings.changed'] as const;
