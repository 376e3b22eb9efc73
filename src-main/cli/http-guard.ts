/**
 * What keeps `studio serve` private to this machine's user: loopback-only binding, a per-launch
 * bearer token compared in constant time, and Host/Origin checks that stop DNS rebinding (a page on
 * evil.example whose name later resolves to 127.0.0.1 still sends `Host: evil.example`).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** 32 random bytes, base64url: 256 bits, safe in a URL fragment, a header and a WebSocket protocol. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The address to bind for a requested host, or null when it is not loopback. `localhost` maps to
 * 127.0.0.1 so the name cannot be resolved to something else.
 */
export function loopbackBindAddress(host: string | undefined): string | null {
  const h = (host ?? '127.0.0.1').trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return '127.0.0.1';
  if (isIP(h) === 4) return /^127\.\d+\.\d+\.\d+$/.test(h) ? h : null;
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return '::1';
    const mapped = /^::ffff:(127\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped ? mapped[1]! : null;
  }
  return null;
}

/** `http://127.0.0.1:PORT` or `http://[::1]:PORT`. */
export function originFor(address: string, port: number): string {
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Accepts only `Host: <loopback name>:<our port>` (port 80 when left out). */
export function hostAllowed(hostHeader: string | undefined, port: number, bound: string): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(hostHeader.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  const p = m[2] === undefined ? 80 : Number(m[2]);
  if (p !== port) return false;
  const boundName = isIP(bound) === 6 ? `[${bound}]` : bound;
  return LOOPBACK_NAMES.has(name) || name === boundName;
}

/** No Origin (curl, same-origin navigation) is fine; a present one must be this server itself. */
export function originAllowed(origin: string | undefined, port: number, bound: string): boolean {
  if (origin === undefined) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // includes the literal "null" of sandboxed frames and file: pages
  }
  if (u.protocol !== 'http:' || u.username || u.password || u.pathname !== '/' || origin.endsWith('/')) return false;
  return hostAllowed(u.port ? `${u.hostname}:${u.port}` : u.hostname, port, bound);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison (both sides hashed first, so lengths cannot leak either). */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  return timingSafeEqual(digest(presented), digest(token));
}

/** The token from `Authorization: Bearer <token>`, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  return m ? m[1]! : null;
}

/** WebSocket subprotocol carrying the token: `bearer.<token>` (browsers cannot set headers on a WebSocket). */
export const TOKEN_PROTOCOL_PREFIX = 'bearer.';

/** The offered subprotocol that carries our token, if any (it is echoed back, as browsers require). */
export function tokenProtocol(offered: Iterable<string>, token: string): string | null {
  for (const p of offered) {
    const candidate = p.startsWith(TOKEN_PROTOCOL_PREFIX) ? p.slice(TOKEN_PROTOCOL_PREFIX.length) : p;
    if (tokenMatches(candidate, token)) return p;
  }
  return null;
}

/**
 * The path and query of a request target, or null for one that is not a plain path: an absolute
 * URL, or a target starting with `//`, which `new URL(target, base)` reads as an authority (and
 * throws on for `//[`, `///`, `//x@` — the request that stopped the server). The app never makes
 * such requests; they are answered 400. What remains is appended to a fixed origin, so it can only
 * be a path, and anything that still does not parse is null too.
 */
export function requestTarget(target: string | undefined): URL | null {
  const t = target ?? '/';
  if (!t.startsWith('/') || t.startsWith('//')) return null;
  try {
    return new URL(`http://localhost${t}`);
  } catch {
    return null;
  }
}
