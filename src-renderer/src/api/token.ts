/**
 * The session token `studio serve` prints in its URL (`…/#token=…`). It is taken from the hash once,
 * kept in sessionStorage (so a reload in the same tab keeps working) and the hash is cleared, so the
 * token does not linger in the address bar, history or screenshots.
 */
export const TOKEN_KEY = 'ourvidz-studio.token';

export interface TokenEnv {
  readonly hash: string;
  readonly storage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  clearHash(): void;
}

export function takeToken(env: TokenEnv): string | null {
  const params = new URLSearchParams(env.hash.replace(/^#/, ''));
  const fromHash = params.get('token');
  if (fromHash) {
    env.storage.setItem(TOKEN_KEY, fromHash);
    env.clearHash();
    return fromHash;
  }
  return env.storage.getItem(TOKEN_KEY) || null;
}
