import { describe, expect, it } from 'vitest';
import { TOKEN_KEY, parseStudioLink, takeToken, tokenInHash } from '../../../src-renderer/src/api/token.ts';

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

describe('a new link pasted after `studio serve` started again', () => {
  it('finds the token in a fragment', () => {
    expect(tokenInHash('#token=abc')).toBe('abc');
    expect(tokenInHash('')).toBeNull();
    expect(tokenInHash('#other=1')).toBeNull();
  });

  it('accepts the printed link and says what is wrong with anything else', () => {
    expect(parseStudioLink('  http://127.0.0.1:5170/#token=abc ')).toEqual({ url: 'http://127.0.0.1:5170/#token=abc' });
    expect(parseStudioLink('http://[::1]:9/#token=x')).toEqual({ url: 'http://[::1]:9/#token=x' });
    expect(parseStudioLink('127.0.0.1:5170')).toMatchObject({ problem: expect.stringContaining('not a link') });
    expect(parseStudioLink('https://example.com/#token=abc')).toMatchObject({ problem: expect.stringContaining('127.0.0.1') });
    expect(parseStudioLink('http://127.0.0.1:5170/')).toMatchObject({ problem: expect.stringContaining('#token=') });
  });
});
