/**
 * Library media for the renderer, by opaque id only. Electron's `studio-media://asset/<id>/original`
 * protocol and `studio serve`'s `/studio-media/asset/<id>/original` both come here:
 *
 *  - resolveMedia: a known id → its file, with the REAL path (symlinks resolved) checked to lie
 *    inside the library root's real path; anything else (unknown id, `..`, an absolute or tampered
 *    stored path, a symlink out of the root, not a regular file) is null — a 404, never a file.
 *  - planMediaReply: pure HTTP semantics (Range → 206/416, If-Range, HEAD, ETag) for either door.
 *  - mediaResponse: the two together as a WHATWG Response with a streamed body (Electron's
 *    protocol.handle wants exactly this; serve can pipe it or use planMediaReply itself).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';
import { ID_PATTERN, MEDIA_SCHEME, MEDIA_VARIANTS } from '../../../src-preload/contract/library.ts';
import type { MediaVariant } from '../../../src-preload/contract/library.ts';
import { absoluteInRoot, isInside, mimeOfPath } from './store.ts';

export interface ResolvedMedia {
  /** The real path of the file (inside the library root). */
  readonly path: string;
  readonly mime: string;
  readonly size: number;
  readonly etag: string;
  readonly mtimeMs: number;
}

/** `studio-media://asset/<id>/<variant>`, or serve's `http(s)://…/studio-media/asset/<id>/<variant>`. */
export function parseMediaUrl(raw: string): { id: string; variant: MediaVariant } | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  let rest: string;
  if (url.protocol === `${MEDIA_SCHEME}:`) {
    if (url.host !== 'asset') return null;
    rest = url.pathname;
  } else if (url.protocol === 'http:' || url.protocol === 'https:') {
    const prefix = `/${MEDIA_SCHEME}/asset`;
    if (!url.pathname.startsWith(`${prefix}/`)) return null;
    rest = url.pathname.slice(prefix.length);
  } else return null;
  return parseMediaPath(rest);
}

/** `/<id>/<variant>` → its parts, or null. Ids are opaque tokens: no dots, slashes or escapes survive. */
export function parseMediaPath(path: string): { id: string; variant: MediaVariant } | null {
  const parts = path.split('/');
  if (parts.length !== 3 || parts[0] !== '') return null;
  let id: string;
  try {
    id = decodeURIComponent(parts[1]!);
  } catch {
    return null;
  }
  const variant = parts[2]!;
  if (!ID_PATTERN.test(id) || !(MEDIA_VARIANTS as readonly string[]).includes(variant)) return null;
  return { id, variant: variant as MediaVariant };
}

export async function resolveMedia(db: Database, root: string, id: string, variant: MediaVariant): Promise<ResolvedMedia | null> {
  if (typeof id !== 'string' || !ID_PATTERN.test(id) || !(MEDIA_VARIANTS as readonly string[]).includes(variant)) return null;
  const row = db.get<{ file_path: string; thumb_path: string | null; mime: string; sha256: string }>(
    'SELECT file_path, thumb_path, mime, sha256 FROM assets WHERE id = ?',
    id,
  );
  if (!row) return null;
  const rel = variant === 'original' ? row.file_path : row.thumb_path;
  if (!rel) return null;
  const candidate = absoluteInRoot(root, rel);
  if (!candidate) return null;
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!isInside(realRoot, real)) return null;
    const info = await stat(real);
    if (!info.isFile()) return null;
    const mime = variant === 'original' ? row.mime : mimeOfPath(real);
    const etag = variant === 'original' ? `"${row.sha256}"` : `"t-${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    return { path: real, mime, size: info.size, etag, mtimeMs: info.mtimeMs };
  } catch {
    return null;
  }
}

export type RangeResult =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * One `Range: bytes=…` header against a representation of `size` bytes (RFC 9110 §14). A header
 * that is absent, malformed, not in bytes or asks for several ranges is ignored (a full 200, as the
 * RFC allows); a syntactically valid range that starts past the end, or a zero-length suffix, is
 * unsatisfiable (416). `end` is inclusive and clamped to the last byte.
 */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (header === null || header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: 'full' };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return { kind: 'full' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.POSITIVE_INFINITY : Number(last);
  if (!Number.isSafeInteger(start) || (last !== '' && !Number.isSafeInteger(end))) return { kind: 'full' };
  if (end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

export interface MediaRequest {
  readonly method: string;
  readonly range?: string | null;
  readonly ifRange?: string | null;
  readonly ifNoneMatch?: string | null;
}

export interface MediaReply {
  readonly status: 200 | 206 | 304 | 404 | 405 | 416;
  readonly headers: Record<string, string>;
  /** Bytes to send (inclusive), or null for no body. */
  readonly body: { readonly path: string; readonly start: number; readonly end: number } | null;
}

const COMMON = { 'x-content-type-options': 'nosniff', 'cache-control': 'private, max-age=31536000, immutable' };

export function planMediaReply(media: ResolvedMedia | null, req: MediaRequest): MediaReply {
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: null };
  }
  if (!media) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, body: null };
  const base = { ...COMMON, 'accept-ranges': 'bytes', etag: media.etag, 'content-type': media.mime };
  if (req.ifNoneMatch && req.ifNoneMatch.split(',').some((t) => t.trim() === media.etag || t.trim() === '*')) {
    return { status: 304, headers: base, body: null };
  }
  // If-Range with a different validator means "the file changed: send it all".
  const range = req.ifRange && req.ifRange.trim() !== media.etag ? ({ kind: 'full' } as const) : parseRange(req.range, media.size);
  const head = method === 'HEAD';
  if (range.kind === 'unsatisfiable') {
    return { status: 416, headers: { ...base, 'content-range': `bytes */${media.size}`, 'content-length': '0' }, body: null };
  }
  if (range.kind === 'partial') {
    return {
      status: 206,
      headers: { ...base, 'content-range': `bytes ${range.start}-${range.end}/${media.size}`, 'content-length': String(range.end - range.start + 1) },
      body: head ? null : { path: media.path, start: range.start, end: range.end },
    };
  }
  return {
    status: 200,
    headers: { ...base, 'content-length': String(media.size) },
    body: head || media.size === 0 ? null : { path: media.path, start: 0, end: media.size - 1 },
  };
}

/** A media request as a WHATWG Response (Electron's protocol.handle, or any fetch-style server). */
export async function mediaResponse(db: Database, root: string, request: Request): Promise<Response> {
  const target = parseMediaUrl(request.url);
  const media = target ? await resolveMedia(db, root, target.id, target.variant) : null;
  const reply = planMediaReply(media, {
    method: request.method,
    range: request.headers.get('range'),
    ifRange: request.headers.get('if-range'),
    ifNoneMatch: request.headers.get('if-none-match'),
  });
  if (!reply.body) return new Response(reply.status === 404 ? 'Not found' : null, { status: reply.status, headers: reply.headers });
  const stream = Readable.toWeb(createReadStream(reply.body.path, { start: reply.body.start, end: reply.body.end })) as ReadableStream<Uint8Array>;
  return new Response(stream, { status: reply.status, headers: reply.headers });
}
