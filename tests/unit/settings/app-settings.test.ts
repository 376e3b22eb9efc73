import { describe, expect, it, vi } from 'vitest';
import { AppSettingsStore, DEFAULT_APP_SETTINGS, rememberWindowSize } from '../../../src-main/app/settings.ts';
import type { SecretCipher, SettingsBackend } from '../../../src-main/app/settings.ts';

class MemoryBackend implements SettingsBackend {
  readonly data = new Map<string, unknown>();
  get(key: string): unknown {
    return this.data.get(key);
  }
  set(key: string, value: unknown): void {
    this.data.set(key, structuredClone(value));
  }
  delete(key: string): void {
    this.data.delete(key);
  }
  /** What would be written to settings.json. */
  json(): string {
    return JSON.stringify(Object.fromEntries(this.data));
  }
}

/** A reversible stand-in for the OS keychain: XOR with a key, so ciphertext differs from plaintext. */
class FakeCipher implements SecretCipher {
  available = true;
  backend: ReturnType<SecretCipher['getSelectedStorageBackend']> = 'gnome_libsecret';
  reencrypt = false;
  broken = false;
  readonly #xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  isAsyncEncryptionAvailable = async () => this.available;
  getSelectedStorageBackend = () => this.backend;
  encryptStringAsync = async (plain: string) => this.#xor(Buffer.from(`v1:${plain}`, 'utf8'));
  decryptStringAsync = async (encrypted: Buffer) => {
    if (this.broken) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    return { result: this.#xor(encrypted).toString('utf8').replace(/^v1:/, ''), shouldReEncrypt: this.reencrypt };
  };
}

function setup(platform: NodeJS.Platform = 'linux') {
  const backend = new MemoryBackend();
  const cipher = new FakeCipher();
  return { backend, cipher, settings: new AppSettingsStore(backend, cipher, platform) };
}

describe('AppSettingsStore', () => {
  it('reads defaults when nothing is stored, and keeps none of the engine’s settings', () => {
    const { settings } = setup();
    expect(settings.all()).toEqual(DEFAULT_APP_SETTINGS);
    expect(Object.keys(settings.all())).not.toContain('modelDirs');
  });

  it('stores and reads the window size', () => {
    const { settings } = setup();
    settings.set('windowSize', { width: 1600, height: 1000, maximized: true });
    expect(settings.get('windowSize')).toEqual({ width: 1600, height: 1000, maximized: true });
  });

  it('refuses a window size that makes no sense, naming the setting', () => {
    const { settings, backend } = setup();
    expect(() => settings.set('windowSize', { width: 10, height: 1000, maximized: false })).toThrow(
      expect.objectContaining({ code: 'invalid_setting', field: 'windowSize', message: expect.stringContaining('windowSize.width') }),
    );
    expect(backend.data.size).toBe(0);
  });

  it('reads a hand-broken value as the default rather than crashing', () => {
    const { settings, backend } = setup();
    backend.set('windowSize', 'huge');
    expect(settings.get('windowSize')).toBeNull();
  });

  it('opens the window at its last size, centred, and remembers the size it is closed at', () => {
    const { settings } = setup();
    settings.set('windowSize', { width: 1500, height: 950, maximized: true });
    const closeListeners: (() => void)[] = [];
    const window = {
      size: { width: 1440, height: 900 },
      maximized: false,
      centred: false,
      getNormalBounds() {
        return this.size;
      },
      isMaximized() {
        return this.maximized;
      },
      setSize(width: number, height: number) {
        this.size = { width, height };
      },
      center() {
        this.centred = true;
      },
      maximize() {
        this.maximized = true;
      },
      on(_event: 'close', listener: () => void) {
        closeListeners.push(listener);
      },
    };
    rememberWindowSize(window, settings);
    expect(window.size).toEqual({ width: 1500, height: 950 });
    expect(window.centred).toBe(true);
    expect(window.maximized).toBe(true);

    window.maximized = false;
    window.setSize(1200, 800);
    for (const l of closeListeners) l();
    expect(settings.get('windowSize')).toEqual({ width: 1200, height: 800, maximized: false });
  });

  it('keeps secrets encrypted on disk and reads them back', async () => {
    const { settings, backend } = setup();
    await settings.setSecret('supabaseSession', 'refresh-token-abc123');
    expect(backend.json()).not.toContain('refresh-token-abc123');
    expect(await settings.getSecret('supabaseSession')).toBe('refresh-token-abc123');
    settings.deleteSecret('supabaseSession');
    expect(await settings.getSecret('supabaseSession')).toBeNull();
  });

  it('refuses to keep a secret without secure storage, and says why', async () => {
    const { settings, cipher, backend } = setup();
    cipher.available = false;
    await expect(settings.setSecret('supabaseSession', 'x')).rejects.toMatchObject({ code: 'secrets_unavailable' });
    expect(backend.json()).not.toContain('secrets');
  });

  it("treats Linux's basic_text backend (a hard-coded key) as no secure storage", async () => {
    const { settings, cipher, backend } = setup('linux');
    cipher.backend = 'basic_text';
    expect(await settings.secretStorage()).toMatchObject({ available: false, reason: expect.stringContaining('keyring') });
    await expect(settings.setSecret('supabaseSession', 'token')).rejects.toMatchObject({ code: 'secrets_unavailable' });
    expect(backend.json()).not.toContain('token');
  });

  it('only asks for the Linux backend on Linux', async () => {
    const { settings, cipher } = setup('darwin');
    cipher.backend = 'basic_text'; // would be meaningless off Linux
    expect(await settings.secretStorage()).toEqual({ available: true });
  });

  it('re-encrypts when the keychain asks, and forgets a secret that no longer decrypts', async () => {
    const { settings, cipher, backend } = setup();
    await settings.setSecret('supabaseSession', 'tok');
    const encrypt = vi.spyOn(cipher, 'encryptStringAsync');
    expect(await settings.getSecret('supabaseSession')).toBe('tok');
    expect(encrypt).not.toHaveBeenCalled();
    cipher.reencrypt = true;
    expect(await settings.getSecret('supabaseSession')).toBe('tok');
    expect(encrypt).toHaveBeenCalledWith('tok');
    cipher.reencrypt = false;
    cipher.broken = true;
    expect(await settings.getSecret('supabaseSession')).toBeNull();
    expect(backend.get('secrets')).toEqual({});
  });
});
