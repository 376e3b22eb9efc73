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
  const fromHash = tokenInHash(env.hash);
  if (fromHash) {
    env.storage.setItem(TOKEN_KEY, fromHash);
    env.clearHash();
    return fromHash;
  }
  return env.storage.getItem(TOKEN_KEY) || null;
}

/** The token in a `#token=…` fragment, if there is one (a link `studio serve` printed). */
export function tokenInHash(hash: string): string | null {
  return new URLSearchParams(hash.replace(/^#/, '')).get('token') || null;
}

/**
 * Whether `text` is a link `studio serve` prints: http on a loopback address, with `#token=…`.
 * Returns it as a URL to open, or a sentence saying what is wrong with it.
 */
export function parseStudioLink(text: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { problem: 'That is not a link. Copy the whole line after “open” that `studio serve` printed.' };
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    return { problem: 'The studio’s links start with http://127.0.0.1 (or localhost): copy the one `studio serve` printed.' };
  }
  if (!tokenInHash(url.hash)) return { problem: 'That link has no #token=… at its end: copy the whole link.' };
  return { url: url.href };
}
