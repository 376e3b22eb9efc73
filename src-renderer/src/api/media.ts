/**
 * Where the renderer loads library media from. Assets name their media as
 * `studio-media://asset/<id>/original|thumb`: inside Electron that URL is loaded as it is (the app's
 * protocol serves it); in a browser under `studio serve` it becomes
 * `<origin>/studio-media/asset/<id>/<variant>?key=<media key>`, because an <img> or <video> cannot
 * send the bearer header. The media key is derived from the session token exactly as the server
 * does (src-main/cli/media-route.ts), so it opens media and nothing else.
 *
 * `mediaUrl(id, variant)` and `displayUrl(url)` are what views use; resolveTransport() configures
 * them once.
 */
import { MEDIA_SCHEME } from '../contract.ts';
import type { MediaVariant } from '../contract.ts';

export type MediaTarget = { readonly kind: 'scheme' } | { readonly kind: 'http'; readonly baseUrl: string; readonly token: string };

export interface MediaUrls {
  /** The URL to put in an <img>/<video> for an asset's original file or thumbnail. */
  mediaUrl(assetId: string, variant: MediaVariant): string;
  /** Maps a `studio-media://asset/…` URL (as the engine hands them out) to one this window can load. */
  displayUrl(url: string): string;
}

export function createMediaUrls(target: MediaTarget): MediaUrls {
  const schemeUrl = (id: string, variant: MediaVariant) => `${MEDIA_SCHEME}://asset/${encodeURIComponent(id)}/${variant}`;
  if (target.kind === 'scheme') {
    return { mediaUrl: schemeUrl, displayUrl: (url) => url };
  }
  const base = target.baseUrl.replace(/\/+$/, '');
  const key = mediaKey(target.token);
  const prefix = `${MEDIA_SCHEME}://asset/`;
  return {
    mediaUrl: (id, variant) => `${base}/${MEDIA_SCHEME}/asset/${encodeURIComponent(id)}/${variant}?key=${key}`,
    displayUrl: (url) => (url.startsWith(prefix) ? `${base}/${MEDIA_SCHEME}/asset/${url.slice(prefix.length)}?key=${key}` : url),
  };
}

let current: MediaUrls = createMediaUrls({ kind: 'scheme' });

/** Called once by resolveTransport(). */
export function configureMedia(target: MediaTarget): void {
  current = createMediaUrls(target);
}

export function mediaUrl(assetId: string, variant: MediaVariant): string {
  return current.mediaUrl(assetId, variant);
}

export function displayUrl(url: string): string {
  return current.displayUrl(url);
}

/** base64url(SHA-256("studio-media\n" + token)), the key `studio serve` accepts on media requests. */
export function mediaKey(token: string): string {
  return base64url(sha256(new TextEncoder().encode(`${MEDIA_SCHEME}\n${token}`)));
}

// ---- SHA-256 (FIPS 180-4), synchronous: WebCrypto's digest is async and URLs are needed while rendering ----

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256(message: Uint8Array): Uint8Array {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const padded = new Uint8Array(Math.ceil((message.length + 9) / 64) * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = message.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i]! + w[i]!) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]!);
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >>> (18 - 6 * j)) & 63];
  }
  return out;
}
