/**
 * What the Electron app keeps for itself, apart from the engine's settings: the window's place on
 * screen, and secrets that only ever touch disk encrypted by the OS keychain through `safeStorage`.
 *
 * The studio's own settings (model folders, providers, VRAM budget, ffmpeg…) are not here: the
 * engine keeps them in `<data>/settings.json` (src-main/engine/settings), because the CLI and
 * `studio serve` run without Electron and must read and change the same values.
 *
 * No runtime electron import here: main.ts hands in the store and safeStorage, tests hand in fakes.
 */
import type { SafeStorage } from 'electron';
import { z } from 'zod';
import { StudioError } from '../engine/errors.ts';

/** electron-store's file name (`app-settings.json` in the data folder; the engine owns settings.json). */
export const APP_SETTINGS_NAME = 'app-settings';

const WindowSizeSchema = z.strictObject({
  width: z.number().int().min(320).max(32_768),
  height: z.number().int().min(240).max(32_768),
  maximized: z.boolean(),
});
export type WindowSize = z.infer<typeof WindowSizeSchema>;

export const AppSettingsSchema = z.strictObject({
  /** The main window's size when it was last closed; null: the default size. */
  windowSize: WindowSizeSchema.nullable(),
});
export type AppSettings = z.infer<typeof AppSettingsSchema>;

export const DEFAULT_APP_SETTINGS: Readonly<AppSettings> = Object.freeze({
  windowSize: null,
});

export const SECRET_NAMES = ['supabaseSession'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** The part of electron-store (Conf) used here. Dot-notation access must be off in the real store. */
export interface SettingsBackend {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

export type SecretCipher = Pick<
  SafeStorage,
  'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync' | 'getSelectedStorageBackend'
>;

const SECRETS_KEY = 'secrets';

export class AppSettingsStore {
  readonly #backend: SettingsBackend;
  readonly #cipher: SecretCipher;
  readonly #platform: NodeJS.Platform;

  constructor(backend: SettingsBackend, cipher: SecretCipher, platform: NodeJS.Platform = process.platform) {
    this.#backend = backend;
    this.#cipher = cipher;
    this.#platform = platform;
  }

  /** A stored value that no longer validates (hand-edited file, older version) reads as the default. */
  get<K extends keyof AppSettings>(key: K): AppSettings[K] {
    const parsed = AppSettingsSchema.shape[key].safeParse(this.#backend.get(key));
    return parsed.success ? (parsed.data as AppSettings[K]) : DEFAULT_APP_SETTINGS[key];
  }

  set<K extends keyof AppSettings>(key: K, value: AppSettings[K]): void {
    const parsed = AppSettingsSchema.shape[key].safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${key}.${issue.path.join('.')}` : key;
      throw new StudioError('invalid_setting', `${where} ${issue?.message ?? 'is not valid'}`, { field: key });
    }
    this.#backend.set(key, parsed.data);
  }

  all(): AppSettings {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(AppSettingsSchema.shape) as (keyof AppSettings)[]) out[key] = this.get(key);
    return out as AppSettings;
  }

  /** Whether secrets can be kept; when not, the reason as a sentence a person can act on. */
  async secretStorage(): Promise<{ readonly available: true } | { readonly available: false; readonly reason: string }> {
    // Linux without a keyring falls back to a hard-coded key: encrypted in name only.
    if (this.#platform === 'linux' && this.#cipher.getSelectedStorageBackend() === 'basic_text') {
      return {
        available: false,
        reason: 'No system keyring (GNOME Keyring or KWallet) was found, so sign-ins are not saved. Install or unlock one to stay signed in.',
      };
    }
    if (!(await this.#cipher.isAsyncEncryptionAvailable())) {
      return { available: false, reason: "The system's secure storage is unavailable, so sign-ins are not saved." };
    }
    return { available: true };
  }

  async setSecret(name: SecretName, value: string): Promise<void> {
    const storage = await this.secretStorage();
    if (!storage.available) throw new StudioError('secrets_unavailable', storage.reason);
    const encrypted = await this.#cipher.encryptStringAsync(value);
    this.#backend.set(SECRETS_KEY, { ...this.#secrets(), [name]: encrypted.toString('base64') });
  }

  /** null when absent or no longer readable (the keychain entry was reset): the user signs in again. */
  async getSecret(name: SecretName): Promise<string | null> {
    const stored = this.#secrets()[name];
    if (stored === undefined) return null;
    try {
      const { result, shouldReEncrypt } = await this.#cipher.decryptStringAsync(Buffer.from(stored, 'base64'));
      if (shouldReEncrypt) await this.setSecret(name, result);
      return result;
    } catch {
      this.deleteSecret(name);
      return null;
    }
  }

  deleteSecret(name: SecretName): void {
    const { [name]: _removed, ...rest } = this.#secrets();
    this.#backend.set(SECRETS_KEY, rest);
  }

  #secrets(): Partial<Record<SecretName, string>> {
    const raw = this.#backend.get(SECRETS_KEY);
    if (typeof raw !== 'object' || raw === null) return {};
    const out: Partial<Record<SecretName, string>> = {};
    for (const name of SECRET_NAMES) {
      const v = (raw as Record<string, unknown>)[name];
      if (typeof v === 'string') out[name] = v;
    }
    return out;
  }
}

/** What rememberWindowSize uses of a BrowserWindow. */
export interface SizedWindow {
  getNormalBounds(): { readonly width: number; readonly height: number };
  isMaximized(): boolean;
  setSize(width: number, height: number): void;
  center(): void;
  maximize(): void;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * Opens the window at the size it was closed at, centred (a remembered position may lie on a screen
 * that is no longer connected), and remembers the size again when it closes.
 */
export function rememberWindowSize(window: SizedWindow, store: AppSettingsStore): void {
  const saved = store.get('windowSize');
  if (saved) {
    window.setSize(saved.width, saved.height);
    window.center();
    if (saved.maximized) window.maximize();
  }
  window.on('close', () => {
    const { width, height } = window.getNormalBounds();
    try {
      store.set('windowSize', { width: Math.round(width), height: Math.round(height), maximized: window.isMaximized() });
    } catch {
      // An odd size (a tiny window on a huge display) is simply not remembered.
    }
  });
}
