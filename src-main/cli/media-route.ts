/**
 * Library media under `studio serve`: `GET /studio-media/asset/<id>/original|thumb`, the same URL
 * space as Electron's `studio-media://asset/<id>/…` protocol, answered from the library's
 * resolveMedia (opaque ids only, the real path checked inside the library root) with HTTP Range.
 *
 * An <img> or <video> cannot send `Authorization`, so these requests carry a media key in the query
 * (`?key=…`). The key is derived from the session token (mediaKeyFor) rather than being the token
 * itself: a copied image address then opens media and nothing else — it cannot run jobs, read the
 * API or open the event stream. `Authorization: Bearer <token>` is accepted too (curl, scripts).
 * Host/Origin checks happen before this, in serve.ts, for every request.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseMediaPath, planMediaReply } from '../engine/library/media.ts';
import type { Library } from '../engine/library/library.ts';
import { MEDIA_SCHEME } from '../../src-preload/contract/library.ts';
import { bearerToken, tokenMatches, requestTarget } from './http-guard.ts';

/** What the route needs from the library. */
export type MediaSource = Pick<Library, 'resolveMedia'>;

export const MEDIA_PREFIX = `/${MEDIA_SCHEME}/`;
const ASSET_PREFIX = `/${MEDIA_SCHEME}/asset`;

/**
 * The media-only key for a session token: base64url(SHA-256("studio-media\n" + token)). The
 * renderer computes the same (src-renderer/src/api/media.ts) from the token it already holds.
 */
export function mediaKeyFor(token: string): string {
  return createHash('sha256').update(`${MEDIA_SCHEME}\n${token}`, 'utf8').digest('base64url');
}

/** The path part of a raw request target, before any normalisation (so `..` stays visible). */
function rawPath(target: string): string {
  const q = target.search(/[?#]/);
  return q === -1 ? target : target.slice(0, q);
}

/** Whether a request is for the media route (on its raw or its normalised path). */
export function isMediaRequest(target: string | undefined): boolean {
  const raw = rawPath(target ?? '/');
  if (raw.startsWith(MEDIA_PREFIX)) return true;
  return requestTarget(target)?.pathname.startsWith(MEDIA_PREFIX) ?? false;
}

function queryKey(target: string): string | null {
  return requestTarget(target)?.searchParams.get('key') ?? null;
}

const PLAIN = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...PLAIN, 'content-length': String(Buffer.byteLength(text)), ...extra });
  res.end(text);
}

export interface MediaRouteOptions {
  readonly source: MediaSource | null;
  /** The session token (the media key is derived from it). */
  readonly token: string;
}

export async function serveMedia(req: IncomingMessage, res: ServerResponse, options: MediaRouteOptions): Promise<void> {
  const target = req.url ?? '/';
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    plain(res, 405, 'Library media can only be read (GET or HEAD).\n', { allow: 'GET, HEAD' });
    return;
  }
  const authorised =
    tokenMatches(queryKey(target), mediaKeyFor(options.token)) || tokenMatches(bearerToken(req.headers.authorization), options.token);
  if (!authorised) {
    plain(res, 401, 'Missing or wrong media key: open the studio from the link `studio serve` printed.\n');
    return;
  }
  const raw = rawPath(target);
  const parsed = raw.startsWith(`${ASSET_PREFIX}/`) ? parseMediaPath(raw.slice(ASSET_PREFIX.length)) : null;
  if (!parsed) {
    plain(res, 400, `Not a media address: use ${ASSET_PREFIX}/<asset id>/original or …/thumb.\n`);
    return;
  }
  if (!options.source) {
    plain(res, 404, 'This server has no library to serve media from.\n');
    return;
  }
  const media = await options.source.resolveMedia(parsed.id, parsed.variant);
  const reply = planMediaReply(media, {
    method,
    range: req.headers.range ?? null,
    ifRange: typeof req.headers['if-range'] === 'string' ? req.headers['if-range'] : null,
    ifNoneMatch: req.headers['if-none-match'] ?? null,
  });
  // Other sites cannot embed our media even with a leaked key, and no referrer leaves with it.
  const headers = { ...reply.headers, 'cross-origin-resource-policy': 'same-origin', 'referrer-policy': 'no-referrer' };
  if (reply.status === 404) {
    plain(res, 404, `No ${parsed.variant === 'thumb' ? 'thumbnail' : 'file'} for asset ${parsed.id}: it may have been deleted, or its thumbnail is still being made.\n`);
    return;
  }
  if (!reply.body) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const stream = createReadStream(reply.body.path, { start: reply.body.start, end: reply.body.end });
  await new Promise<void>((resolve) => {
    stream.once('open', () => {
      res.writeHead(reply.status, headers);
      stream.pipe(res);
    });
    stream.once('error', () => {
      if (!res.headersSent) plain(res, 404, `The file of asset ${parsed.id} could not be read.\n`);
      else res.destroy();
      resolve();
    });
    stream.once('end', resolve);
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
  });
}
