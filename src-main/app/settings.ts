/**
 * Typed settings over a key-value store (electron-store in the app), validated on every read and
 * write, and secrets that only ever touch disk encrypted by the OS keychain through `safeStorage`.
 *
 * No runtime electron import here: main.ts hands in the store and safeStorage, tests hand in fakes.
 */
import type { SafeStorage } from 'electron';
import path from 'node:path';
import { z } from 'zod';
import { StudioError } from '../engine/errors.ts';

export const PROVIDER_NAMES = ['cuda', 'dml', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const absolutePath = z.string().min(1).refine((p) => path.isAbsolute(p), { error: 'must be an absolute path' });

export const SettingsSchema = z.strictObject({
  /** Extra folders scanned for ONNX model folders (the data folder's models/ is always scanned). */
  modelDirs: z.array(absolutePath).max(32),
  /** null: measured with nvidia-smi, else the engine's default. */
  vramBudgetMb: z.number().int().min(512).max(1_048_576).nullable(),
  /** Execution providers in the order to try them; null: the platform's default order. */
  providers: z
    .array(z.enum(PROVIDER_NAMES))
    .min(1)
    .refine((list) => new Set(list).size === list.length, { error: 'must not list a provider twice' })
    .nullable(),
  /** null: ffmpeg from PATH. */
  ffmpegPath: absolutePath.nullable(),
  /** null: the data folder's library/. */
  libraryRoot: absolutePath.nullable(),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  modelDirs: [],
  vramBudgetMb: null,
  providers: null,
  ffmpegPath: null,
  libraryRoot: null,
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

export class SettingsStore {
  readonly #backend: SettingsBackend;
  readonly #cipher: SecretCipher;
  readonly #platform: NodeJS.Platform;

  constructor(backend: SettingsBackend, cipher: SecretCipher, platform: NodeJS.Platform = process.platform) {
    this.#backend = backend;
    this.#cipher = cipher;
    this.#platform = platform;
  }

  /** A stored value that no longer validates (hand-edited file, older version) reads as the default. */
  get<K extends keyof Settings>(key: K): Settings[K] {
    const parsed = SettingsSchema.shape[key].safeParse(this.#backend.get(key));
    return parsed.success ? (parsed.data as Settings[K]) : DEFAULT_SETTINGS[key];
  }

  set<K extends keyof Settings>(key: K, value: Settings[K]): void {
    const parsed = SettingsSchema.shape[key].safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${key}.${issue.path.join('.')}` : key;
      throw new StudioError('invalid_setting', `${where} ${issue?.message ?? 'is not valid'}`, { field: key });
    }
    this.#backend.set(key, parsed.data);
  }

  all(): Settings {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(SettingsSchema.shape) as (keyof Settings)[]) out[key] = this.get(key);
    return out as Settings;
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
