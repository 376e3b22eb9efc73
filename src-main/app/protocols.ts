/**
 * The app's two schemes. `studio://app/…` serves the built renderer (a real origin, unlike file://,
 * so CSP 'self', the IPC sender check and navigation rules all compare origins), and
 * `studio-media://asset/<id>/original|thumb` serves library media by opaque asset id: the library
 * resolves the id to a file whose real path lies inside its root, and Range requests are answered
 * with 206 so a video can seek. Never a path from the renderer, never file://.
 */
import type { CustomScheme, Protocol } from 'electron';
import { createReadStream } from 'node:fs';
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseMediaUrl, planMediaReply } from '../engine/library/media.ts';
import type { Library } from '../engine/library/library.ts';
import { APP_HOST, APP_SCHEME, MEDIA_SCHEME } from './origin.ts';

export const PRIVILEGED_SCHEMES: CustomScheme[] = [
  // standard + secure: a normal origin with module scripts, fetch and a secure context.
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true } },
  // stream: range requests for video seeking.
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
];

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * The file a `studio://app/…` URL names inside `root`, or null. The check is made twice: on the
 * resolved path, then on the real path, so neither `..` nor a symlink can leave the folder.
 */
export async function resolveAppFile(root: string, requestUrl: string): Promise<string | null> {
  let url: URL;
  let pathname: string;
  try {
    url = new URL(requestUrl);
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  if (pathname.includes('\0')) return null;
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const candidate = path.resolve(root, `.${pathname}`);
  if (!isInside(path.resolve(root), candidate)) return null;
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!isInside(realRoot, real)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

export interface AppProtocolOptions {
  /** The built renderer (out/renderer). */
  readonly root: string;
  /** Sent with every response, so the policy holds even where webRequest does not see the request. */
  readonly csp: string;
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...extra } });
}

export function appProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'Method not allowed', { allow: 'GET, HEAD' });
    const file = await resolveAppFile(options.root, request.url);
    if (!file) return plain(404, 'Not found');
    const body = request.method === 'HEAD' ? null : await readFile(file);
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-security-policy': options.csp,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      },
    });
  };
}

/** What the media scheme needs from the library. */
export type MediaSource = Pick<Library, 'resolveMedia'>;

/**
 * `studio-media://asset/<id>/<variant>`: 400 for anything that is not such an address (`..`, an
 * encoded slash, a path instead of an id, another host), 404 for an id the library does not have or
 * whose file is not inside the library, 200/206/416 with the file's own type otherwise.
 */
export function mediaProtocolHandler(source: MediaSource | null): (request: Request) => Promise<Response> {
  return async (request) => {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return plain(405, 'Library media can only be read.', { allow: 'GET, HEAD' });
    const target = parseMediaUrl(request.url);
    if (!target || !request.url.startsWith(`${MEDIA_SCHEME}:`)) {
      return plain(400, `Not a media address: use ${MEDIA_SCHEME}://asset/<asset id>/original or …/thumb.`);
    }
    const media = source ? await source.resolveMedia(target.id, target.variant) : null;
    const reply = planMediaReply(media, {
      method,
      range: request.headers.get('range'),
      ifRange: request.headers.get('if-range'),
      ifNoneMatch: request.headers.get('if-none-match'),
    });
    if (reply.status === 404) return plain(404, `No ${target.variant === 'thumb' ? 'thumbnail' : 'file'} for asset ${target.id}.`);
    if (!reply.body) return new Response(null, { status: reply.status, headers: reply.headers });
    const file = createReadStream(reply.body.path, { start: reply.body.start, end: reply.body.end });
    return new Response(Readable.toWeb(file) as ReadableStream<Uint8Array>, { status: reply.status, headers: reply.headers });
  };
}

export interface ProtocolSources extends AppProtocolOptions {
  /** The library (absent: every media request is a 404). */
  readonly media?: MediaSource | null;
}

export function registerProtocols(protocol: Pick<Protocol, 'handle'>, options: ProtocolSources): void {
  protocol.handle(APP_SCHEME, appProtocolHandler(options));
  protocol.handle(MEDIA_SCHEME, mediaProtocolHandler(options.media ?? null));
}
