import { describe, expect, it } from 'vitest';
import { TOKEN_KEY, takeToken } from '../../../src-renderer/src/api/token.ts';

function env(hash: string, stored: Record<string, string> = {}) {
  const storage = new Map(Object.entries(stored));
  let cleared = false;
  return {
    env: {
      hash,
      storage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v) },
      clearHash: () => {
        cleared = true;
      },
    },
    storage,
    cleared: () => cleared,
  };
}

describe('session token from the serve URL', () => {
  it('takes the token from #token=…, keeps it for reloads and clears it from the address bar', () => {
    const first = env('#token=abc123');
    expect(takeToken(first.env)).toBe('abc123');
    expect(first.storage.get(TOKEN_KEY)).toBe('abc123');
    expect(first.cleared()).toBe(true);

    const reload = env('', Object.fromEntries(first.storage));
    expect(takeToken(reload.env)).toBe('abc123');
    expect(reload.cleared()).toBe(false);
  });

  it('prefers a new link over a stored token, and has none without either', () => {
    expect(takeToken(env('#view=queue&token=new', { [TOKEN_KEY]: 'old' }).env)).toBe('new');
    expect(takeToken(env('').env)).toBeNull();
  });
});
