/**
 * The `/storage/v1` part of the Supabase stand-in (tests/helpers/supabase-standin/server.ts mounts
 * it): the object routes `@supabase/storage-js` calls and TUS resumable uploads on `@tus/server` with
 * `@tus/file-store`, in front of the REAL PostgreSQL carrying the real migration. Every
 * `storage.objects` read and write runs in a transaction as `SET LOCAL ROLE <the JWT's role>` with the
 * JWT's claims in `request.jwt.claims`, the way Supabase Storage reaches its database, so the
 * migration's storage policies decide who may read, upload and delete.
 *
 *   POST|PUT /storage/v1/object/<bucket>/<path>              upload (binary body or multipart form;
 *                                                            `x-upsert: true` overwrites; PUT always does)
 *   GET      /storage/v1/object[/authenticated]/<bucket>/<path>   download
 *   HEAD     /storage/v1/object[/authenticated]/<bucket>/<path>   headers only
 *   GET      /storage/v1/object/info[/authenticated]/<bucket>/<path>
 *   POST     /storage/v1/object/list/<bucket>                 {prefix, limit, offset, search}
 *   DELETE   /storage/v1/object/<bucket>                      {prefixes}: the rows deleted
 *   DELETE   /storage/v1/object/<bucket>/<path>
 *   POST|PATCH|HEAD|DELETE|OPTIONS /storage/v1/upload/resumable[/<id>]   TUS 1.0.0
 *
 * What the real service answers, read from supabase/storage (src/internal/errors/codes.ts,
 * src/http/error-handler.ts, src/storage/uploader.ts, src/http/routes/tus/lifecycle.ts) and written
 * here from those facts:
 *   - REST errors are JSON `{statusCode: "<code>", code, error, message}` sent with HTTP 400 whatever
 *     the code inside (the handler's `userStatusCode`), 500 only for 500: object missing or hidden by
 *     RLS → "404" NoSuchKey "Object not found"; an RLS refusal → "403" AccessDenied "new row violates
 *     row-level security policy"; an existing object → "409" "Duplicate" "The resource already
 *     exists"; over the limit → "413" "Payload too large" "The object exceeded the maximum allowed
 *     size"; a type the bucket does not take → "415" "invalid_mime_type" "mime type X is not
 *     supported"; a bad or expired JWT → "403" AccessDenied with the verifier's message (jose:
 *     `"exp" claim timestamp check failed`, `signature verification failed`, `Invalid Compact JWS`).
 *   - TUS errors are the same errors with their own code as the HTTP status and the message as a
 *     plain-text body (403, 404, 409, 415; `@tus/server`'s own 413 "Maximum size exceeded"), except
 *     the JWT check, which runs before TUS and answers like REST (HTTP 400, JSON).
 *   - Limits: a bucket's `file_size_limit` capped by the project's global limit (50 MB on the free
 *     plan; `fileSizeLimit` here), checked before bytes are stored (Content-Length / Upload-Length);
 *     `allowed_mime_types` (`type/*` matches a type) checked against the content type.
 *   - TUS create: the size (413), an insert into storage.objects tried as the user and rolled back
 *     (RLS 403, existing 409), the bucket (404) and the type (415); every request but HEAD and OPTIONS
 *     repeats the insert test; the last PATCH inserts the row as the user and the bytes become the
 *     object. The upload URL is `/storage/v1/upload/resumable/<base64url(bucket/name/version)>`.
 * Emulated, not Supabase's code: the HTTP front, the byte store (files in a temp folder, no object
 * versions), image transformations and signed URLs (not served).
 *
 * For tests: `failNext(n, status)` answers the next n storage requests with that status without
 * doing anything (a failing gateway: 500, 503, 429 with `retry-after`).
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import type { Upload } from '@tus/server';
import type pg from 'pg';

/** Supabase's free plan: no single upload over 50 MB, whatever a bucket allows. */
export const FREE_PLAN_FILE_LIMIT = 50 * 1024 * 1024;

export interface StorageStandinOptions {
  readonly pool: pg.Pool;
  /** The HS256 secret access tokens are signed with now (a getter: the stand-in can rotate it). */
  readonly secret: () => string;
  /** The project's global upload limit in bytes (default 50 MB, the free plan). */
  readonly fileSizeLimit?: number;
}

export interface StorageStandin {
  /** Serves one request whose path starts with /storage/v1/. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  /** The next n storage requests get this HTTP status (500, 503, 429 …) and do nothing. */
  failNext(n: number, status: number): void;
  /** The project's global upload limit in bytes; settable (a paid plan allows more). */
  fileSizeLimit: number;
  /** Where an object's bytes are kept, or null when there is none (for assertions). */
  objectFile(bucket: string, name: string): string | null;
  /** TUS uploads created and not finished. */
  openUploads(): number;
  close(): void;
}

type Claims = Record<string, unknown> & { role?: string; sub?: string };

/** An error as Supabase Storage renders it: the code it means, its `error` and message. */
class StorageError extends Error {
  readonly http: number;
  readonly code: string;
  readonly error: string;
  constructor(http: number, code: string, error: string, message: string) {
    super(message);
    this.http = http;
    this.code = code;
    this.error = error;
  }
  /** What `@tus/server` sends for a thrown error. */
  get status_code(): number {
    return this.http;
  }
  get body(): string {
    return this.message;
  }
}

const ERR = {
  noSuchKey: () => new StorageError(404, 'NoSuchKey', 'not_found', 'Object not found'),
  noSuchBucket: () => new StorageError(404, 'NoSuchBucket', 'Bucket not found', 'Bucket not found'),
  accessDenied: (message: string) => new StorageError(403, 'AccessDenied', 'Unauthorized', message),
  exists: () => new StorageError(409, 'ResourceAlreadyExists', 'Duplicate', 'The resource already exists'),
  tooLarge: () => new StorageError(413, 'EntityTooLarge', 'Payload too large', 'The object exceeded the maximum allowed size'),
  mime: (type: string) => new StorageError(415, 'InvalidMimeType', 'invalid_mime_type', `mime type ${type} is not supported`),
  invalidKey: (key: string) => new StorageError(400, 'InvalidKey', 'InvalidKey', `Invalid key: ${key}`),
  invalid: (message: string) => new StorageError(400, 'InvalidRequest', 'InvalidRequest', message),
};

/** supabase/storage src/storage/database/errors.ts: the PostgreSQL errors a request can meet. */
function fromPg(e: unknown): Error {
  const err = e as { code?: string; message?: string };
  if (err.code === '42501') return ERR.accessDenied(err.message?.includes('row-level security') ? 'new row violates row-level security policy' : (err.message ?? ''));
  if (err.code === '23505') return ERR.exists();
  return e as Error;
}

/**
 * HS256 verification with the messages `jose` gives (Supabase Storage verifies with jose): a token it
 * cannot parse, a wrong signature, an expired `exp`.
 */
function verify(secret: string, token: string): Claims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw ERR.accessDenied('Invalid Compact JWS');
  const want = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw ERR.accessDenied('signature verification failed');
  let claims: Claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
  } catch {
    throw ERR.accessDenied('Invalid Compact JWS');
  }
  if (typeof claims.exp === 'number' && claims.exp <= Math.floor(Date.now() / 1000)) throw ERR.accessDenied('"exp" claim timestamp check failed');
  return claims;
}

/** supabase/storage `validateMimeType`: `type/sub` must be listed, or `type/*`. */
function checkMime(type: string, allowed: string[] | null): void {
  if (!allowed || allowed.length === 0) return;
  const [t, sub] = type.split(';')[0]!.trim().split('/');
  if (!t || !sub) throw ERR.mime(type);
  for (const a of allowed) {
    const [at, asub] = a.split('/');
    if (at === t && (asub === '*' || asub === sub)) return;
  }
  throw ERR.mime(type);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** REST rendering: HTTP 400 (500 stays 500), the real code in the body's statusCode. */
function sendError(res: ServerResponse, e: StorageError, head = false): void {
  const status = e.http === 500 ? 500 : 400;
  if (head) {
    res.writeHead(status).end();
    return;
  }
  sendJson(res, status, { statusCode: String(e.http), code: e.code, error: e.error, message: e.message });
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const chunk of req) void chunk;
}

/** The request body, refusing (413) once it passes `max` bytes; the rest is read and dropped. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  let over = false;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) over = true;
    if (!over) chunks.push(c as Buffer);
  }
  if (over) throw ERR.tooLarge();
  return Buffer.concat(chunks);
}

interface UploadId {
  bucket: string;
  name: string;
  version: string;
}
const encodeUploadId = (u: UploadId) => Buffer.from(`${u.bucket}/${u.name}/${u.version}`, 'utf8').toString('base64url');
function decodeUploadId(id: string): UploadId {
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const first = text.indexOf('/');
  const last = text.lastIndexOf('/');
  if (first <= 0 || last <= first) throw ERR.invalid(`the upload id ${id} is not one this server made`);
  return { bucket: text.slice(0, first), name: text.slice(first + 1, last), version: text.slice(last + 1) };
}

interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  metadata: { size?: number; mimetype?: string; cacheControl?: string; eTag?: string; lastModified?: string } | null;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date | null;
}

/** `@tus/file-store` that says when an upload's write has settled (its bytes are on disk). */
class TrackedFileStore extends FileStore {
  readonly afterWrite = new Map<string, () => void>();
  override async write(readable: Parameters<FileStore['write']>[0], id: string, offset: number): Promise<number> {
    try {
      return await super.write(readable, id, offset);
    } finally {
      this.afterWrite.get(id)?.();
    }
  }
}

export function createStorageStandin(options: StorageStandinOptions): StorageStandin {
  const { pool } = options;
  const root = mkdtempSync(join(tmpdir(), 'supabase-standin-storage-'));
  const tusDir = join(root, 'tus');
  const objectsDir = join(root, 'objects');
  mkdirSync(tusDir, { recursive: true });
  mkdirSync(objectsDir, { recursive: true });
  let fail = { n: 0, status: 503 };
  const claimsOf = new WeakMap<IncomingMessage, Claims>();
  const upsertOf = new WeakMap<IncomingMessage, boolean>();
  const open = new Set<string>();
  const patching = new Map<string, Promise<void>>();
  const self = { fileSizeLimit: options.fileSizeLimit ?? FREE_PLAN_FILE_LIMIT };

  const fileOf = (bucket: string, name: string) =>
    join(objectsDir, encodeURIComponent(bucket), createHash('sha256').update(name).digest('hex'));

  /** `fn` in a transaction as the token's role with its claims set, as Supabase Storage runs queries. */
  async function asUser<T>(claims: Claims, fn: (c: pg.PoolClient) => Promise<T>, opts: { rollback?: boolean } = {}): Promise<T> {
    const role = claims.role === 'authenticated' || claims.role === 'service_role' ? claims.role : 'anon';
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local role ${role}`);
      await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
      const out = await fn(client);
      await client.query(opts.rollback ? 'rollback' : 'commit');
      return out;
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw fromPg(e);
    } finally {
      client.release();
    }
  }

  /** The bucket's limits, read as the platform does (not as the user): NoSuchBucket when missing. */
  async function bucketOf(id: string): Promise<{ limit: number; mimes: string[] | null }> {
    const r = await pool.query<{ file_size_limit: string | null; allowed_mime_types: string[] | null }>(
      'select file_size_limit, allowed_mime_types from storage.buckets where id = $1',
      [id],
    );
    const row = r.rows[0];
    if (!row) throw ERR.noSuchBucket();
    const bucketLimit = row.file_size_limit === null ? 0 : Number(row.file_size_limit);
    const limit = bucketLimit > 0 ? Math.min(bucketLimit, self.fileSizeLimit) : self.fileSizeLimit;
    return { limit, mimes: row.allowed_mime_types };
  }

  function claimsFrom(req: IncomingMessage): Claims {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return verify(options.secret(), token);
  }

  const insertSql = (upsert: boolean) =>
    `insert into storage.objects (bucket_id, name, owner, owner_id, metadata) values ($1, $2, $3, $4, $5)` +
    (upsert ? ` on conflict (bucket_id, name) do update set metadata = excluded.metadata, owner = excluded.owner, owner_id = excluded.owner_id, updated_at = now()` : '') +
    ` returning id`;
  const ownerOf = (claims: Claims) => (typeof claims.sub === 'string' && /^[0-9a-f-]{36}$/i.test(claims.sub) ? claims.sub : null);

  function objectMetadata(size: number, mimetype: string, cacheControl: string, eTag: string) {
    return { eTag: `"${eTag}"`, size, mimetype, cacheControl, lastModified: new Date().toUTCString(), contentLength: size, httpStatusCode: 200 };
  }

  /** Stores `bytes` (or links the finished TUS file) as the object, inserting its row as the user. */
  async function putObject(
    claims: Claims,
    bucket: string,
    name: string,
    upsert: boolean,
    meta: ReturnType<typeof objectMetadata>,
    place: (target: string) => void,
  ): Promise<string> {
    return asUser(claims, async (c) => {
      const r = await c.query<{ id: string }>(insertSql(upsert), [bucket, name, ownerOf(claims), claims.sub ?? null, JSON.stringify(meta)]);
      const target = fileOf(bucket, name);
      mkdirSync(dirname(target), { recursive: true });
      if (existsSync(target)) unlinkSync(target);
      place(target);
      return r.rows[0]!.id;
    });
  }

  /** RLS and existence as an upload would meet them, tried and rolled back (Supabase's `canUpload`). */
  async function canUpload(claims: Claims, bucket: string, name: string, upsert: boolean, mimetype: string | undefined, size: number | undefined) {
    await asUser(
      claims,
      (c) => c.query(insertSql(upsert), [bucket, name, ownerOf(claims), claims.sub ?? null, JSON.stringify({ mimetype, contentLength: size })]),
      { rollback: true },
    );
  }

  async function findObject(claims: Claims, bucket: string, name: string): Promise<ObjectRow> {
    await bucketOf(bucket);
    const rows = await asUser(claims, async (c) => (await c.query<ObjectRow>('select * from storage.objects where bucket_id = $1 and name = $2', [bucket, name])).rows);
    const row = rows[0];
    if (!row || !existsSync(fileOf(bucket, name))) throw ERR.noSuchKey();
    return row;
  }

  function objectHeaders(row: ObjectRow): Record<string, string> {
    const m = row.metadata ?? {};
    const h: Record<string, string> = {
      'content-type': m.mimetype ?? 'application/octet-stream',
      'content-length': String(statSync(fileOf(row.bucket_id, row.name)).size),
      'last-modified': new Date(row.updated_at).toUTCString(),
    };
    if (m.cacheControl) h['cache-control'] = m.cacheControl;
    if (m.eTag) h.etag = m.eTag;
    return h;
  }

  // ------------------------------------------------------------------ REST objects

  async function upload(req: IncomingMessage, res: ServerResponse, claims: Claims, bucket: string, name: string): Promise<void> {
    if (!name || name.endsWith('/')) {
      await drain(req);
      throw ERR.invalidKey(`${bucket}/${name}`);
    }
    const upsert = req.method === 'PUT' || req.headers['x-upsert'] === 'true';
    let b: Awaited<ReturnType<typeof bucketOf>>;
    try {
      b = await bucketOf(bucket);
    } catch (e) {
      await drain(req);
      throw e;
    }
    const contentType = req.headers['content-type'] ?? '';
    let bytes: Buffer;
    let mimetype: string;
    let cacheControl: string;
    if (contentType.startsWith('multipart/form-data')) {
      // The form's overhead is small next to a limit in MB; the file part is measured after parsing.
      const raw = await readBody(req, b.limit + 64 * 1024);
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
      let file: File | null = null;
      for (const [, v] of form.entries()) if (typeof v !== 'string') file = v;
      if (!file) throw ERR.invalid('No content provided');
      const typeField = form.get('contentType');
      mimetype = (typeof typeField === 'string' && typeField) || file.type || 'application/octet-stream';
      checkMime(mimetype, b.mimes);
      const cacheField = form.get('cacheControl');
      cacheControl = typeof cacheField === 'string' && cacheField ? `max-age=${cacheField}` : 'no-cache';
      bytes = Buffer.from(await file.arrayBuffer());
      if (bytes.length > b.limit) throw ERR.tooLarge();
    } else {
      mimetype = contentType || 'application/octet-stream';
      cacheControl = req.headers['cache-control'] ?? 'no-cache';
      const declared = Number(req.headers['content-length']);
      try {
        checkMime(mimetype, b.mimes);
        if (Number.isFinite(declared) && declared > b.limit) throw ERR.tooLarge();
      } catch (e) {
        await drain(req);
        throw e;
      }
      bytes = await readBody(req, b.limit);
    }
    const etag = createHash('md5').update(bytes).digest('hex');
    const id = await putObject(claims, bucket, name, upsert, objectMetadata(bytes.length, mimetype, cacheControl, etag), (target) => writeFileSync(target, bytes));
    sendJson(res, 200, { Id: id, Key: `${bucket}/${name}` });
  }

  async function download(req: IncomingMessage, res: ServerResponse, claims: Claims, bucket: string, name: string): Promise<void> {
    const head = req.method === 'HEAD';
    let row: ObjectRow;
    try {
      row = await findObject(claims, bucket, name);
    } catch (e) {
      if (e instanceof StorageError) return sendError(res, e, head);
      throw e;
    }
    res.writeHead(200, objectHeaders(row));
    if (head) {
      res.end();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream(fileOf(bucket, name));
      s.on('error', reject);
      res.on('close', () => resolve());
      s.pipe(res);
    });
  }

  async function info(res: ServerResponse, claims: Claims, bucket: string, name: string): Promise<void> {
    const row = await findObject(claims, bucket, name);
    const m = row.metadata ?? {};
    sendJson(res, 200, {
      id: row.id,
      name: row.name,
      version: null,
      bucket_id: row.bucket_id,
      size: m.size ?? null,
      content_type: m.mimetype ?? null,
      cache_control: m.cacheControl ?? null,
      etag: m.eTag ?? null,
      metadata: null,
      last_modified: new Date(row.updated_at).toISOString(),
      created_at: new Date(row.created_at).toISOString(),
    }, objectHeaders(row));
  }

  async function remove(claims: Claims, bucket: string, names: string[]): Promise<ObjectRow[]> {
    await bucketOf(bucket);
    if (names.length === 0) return [];
    const rows = await asUser(
      claims,
      async (c) => (await c.query<ObjectRow>('delete from storage.objects where bucket_id = $1 and name = any($2) returning *', [bucket, names])).rows,
    );
    for (const r of rows) rmSync(fileOf(bucket, r.name), { force: true });
    return rows;
  }

  async function list(req: IncomingMessage, res: ServerResponse, claims: Claims, bucket: string): Promise<void> {
    const b = JSON.parse((await readBody(req, 1024 * 1024)).toString('utf8') || '{}') as { prefix?: string; limit?: number; offset?: number; search?: string };
    await bucketOf(bucket);
    const prefix = (b.prefix ?? '').replace(/^\/+|\/+$/g, '');
    const base = prefix ? `${prefix}/` : '';
    const rows = await asUser(claims, async (c) =>
      (await c.query<ObjectRow>(`select * from storage.objects where bucket_id = $1 and left(name, length($2)) = $2 order by name`, [bucket, base])).rows,
    );
    // One entry per direct child: files with their row, folders by name with null fields (as storage.search gives).
    const out: Record<string, unknown>[] = [];
    const folders = new Set<string>();
    for (const r of rows) {
      const rest = r.name.slice(base.length);
      const slash = rest.indexOf('/');
      const entry = slash >= 0 ? rest.slice(0, slash) : rest;
      if (b.search && !entry.toLowerCase().includes(b.search.toLowerCase())) continue;
      if (slash >= 0) {
        if (folders.has(entry)) continue;
        folders.add(entry);
        out.push({ name: entry, id: null, updated_at: null, created_at: null, last_accessed_at: null, metadata: null });
      } else {
        out.push({ name: entry, id: r.id, updated_at: r.updated_at, created_at: r.created_at, last_accessed_at: r.last_accessed_at, metadata: r.metadata });
      }
    }
    const offset = b.offset ?? 0;
    sendJson(res, 200, out.slice(offset, offset + (b.limit ?? 100)));
  }

  async function objects(req: IncomingMessage, res: ServerResponse, rest: string[]): Promise<void> {
    const method = req.method ?? 'GET';
    let claims: Claims;
    try {
      claims = claimsFrom(req);
    } catch (e) {
      if (method !== 'GET' && method !== 'HEAD') await drain(req);
      throw e;
    }
    const [first, ...more] = rest;
    if (method === 'POST' && first === 'list' && more.length === 1) return list(req, res, claims, more[0]!);
    if (method === 'GET' && first === 'info') {
      const p = more[0] === 'authenticated' ? more.slice(1) : more;
      return info(res, claims, p[0]!, p.slice(1).join('/'));
    }
    if (method === 'GET' || method === 'HEAD') {
      const p = first === 'authenticated' ? more : rest;
      return download(req, res, claims, p[0]!, p.slice(1).join('/'));
    }
    if (method === 'POST' || method === 'PUT') return upload(req, res, claims, first!, more.join('/'));
    if (method === 'DELETE' && more.length === 0) {
      const b = JSON.parse((await readBody(req, 1024 * 1024)).toString('utf8') || '{}') as { prefixes?: unknown };
      if (!Array.isArray(b.prefixes) || b.prefixes.some((p) => typeof p !== 'string')) throw ERR.invalid('body must have a prefixes array of object names');
      return sendJson(res, 200, await remove(claims, first!, b.prefixes as string[]));
    }
    if (method === 'DELETE') {
      await drain(req);
      const gone = await remove(claims, first!, [more.join('/')]);
      if (gone.length === 0) throw ERR.noSuchKey();
      return sendJson(res, 200, { message: 'Successfully deleted' });
    }
    await drain(req);
    sendJson(res, 404, { statusCode: '404', error: 'Not Found', message: `Route ${method}:${req.url} not found` });
  }

  // ------------------------------------------------------------------ TUS

  const nodeReq = (r: unknown) => (r as { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
  const datastore = new TrackedFileStore({ directory: tusDir });
  const tus = new TusServer({
    path: '/storage/v1/upload/resumable',
    datastore,
    disableTerminationForFinishedUploads: true,
    namingFunction: (_req, metadata) => {
      const bucket = metadata?.bucketName ?? '';
      const name = metadata?.objectName ?? '';
      if (!bucket || !name) throw ERR.invalid('Metadata header is required: bucketName and objectName');
      if (name.endsWith('/') || name.split('/').some((s) => s === '' || s === '.' || s === '..')) throw ERR.invalidKey(`${bucket}/${name}`);
      return encodeUploadId({ bucket, name, version: randomUUID() });
    },
    maxSize: async (_req, id) => (id ? (await bucketOf(decodeUploadId(id).bucket)).limit : self.fileSizeLimit),
    onIncomingRequest: async (rawReq, id) => {
      const req = nodeReq(rawReq)!;
      if (req.method === 'HEAD' || req.method === 'OPTIONS') return;
      const u = decodeUploadId(id);
      let mimetype: string | undefined;
      let size: number | undefined;
      if (req.method === 'POST') {
        const meta = /(?:^|,)\s*contentType\s+([A-Za-z0-9+/=]*)/.exec(String(req.headers['upload-metadata'] ?? ''))?.[1];
        mimetype = meta ? Buffer.from(meta, 'base64').toString('utf8') : undefined;
        size = req.headers['upload-length'] ? Number(req.headers['upload-length']) : undefined;
      } else {
        const upload = await datastore.getUpload(id);
        mimetype = upload.metadata?.contentType ?? undefined;
        size = upload.size;
      }
      await canUpload(claimsOf.get(req)!, u.bucket, u.name, upsertOf.get(req) ?? false, mimetype, size);
    },
    onUploadCreate: async (_rawReq, upload) => {
      const u = decodeUploadId(upload.id);
      const b = await bucketOf(u.bucket);
      const metadata = { ...(upload.metadata ?? {}) };
      metadata.cacheControl = /^-?\d+$/.test(metadata.cacheControl ?? '') ? `max-age=${metadata.cacheControl}` : 'no-cache';
      if (metadata.contentType) checkMime(metadata.contentType, b.mimes);
      open.add(upload.id);
      return { metadata };
    },
    onUploadFinish: async (rawReq, upload: Upload) => {
      const req = nodeReq(rawReq)!;
      const u = decodeUploadId(upload.id);
      const b = await bucketOf(u.bucket);
      const source = join(tusDir, upload.id);
      const size = statSync(source).size;
      if (size > b.limit) throw ERR.tooLarge();
      const etag = await new Promise<string>((resolve, reject) => {
        const h = createHash('md5');
        createReadStream(source).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
      });
      const meta = objectMetadata(size, upload.metadata?.contentType ?? 'application/octet-stream', upload.metadata?.cacheControl ?? 'no-cache', etag);
      // The finished TUS file becomes the object (a hard link: same bytes, and a HEAD on the upload URL still answers).
      await putObject(claimsOf.get(req)!, u.bucket, u.name, upsertOf.get(req) ?? false, meta, (target) => linkSync(source, target));
      open.delete(upload.id);
      return { headers: { 'Tus-Complete': '1' } };
    },
  });

  async function resumable(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'OPTIONS') {
      try {
        claimsOf.set(req, claimsFrom(req));
      } catch (e) {
        await drain(req);
        throw e;
      }
    }
    upsertOf.set(req, req.headers['x-upsert'] === 'true');
    // A HEAD or PATCH right after a PATCH whose connection dropped answers once that PATCH's received
    // bytes are written, so it reports the offset they reached (a deployment's lock gives the same;
    // without it the client resumes from a stale offset and has its whole next chunk refused). A
    // PATCH counts as in flight from its arrival until its bytes are written or it is answered.
    const id = /\/upload\/resumable\/([A-Za-z0-9_-]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1];
    if (!id) return void (await tus.handle(req, res));
    const earlier = patching.get(id);
    if (earlier) await earlier;
    if (req.method !== 'PATCH') {
      await tus.handle(req, res);
      if (req.method === 'DELETE' && res.statusCode === 204) open.delete(id);
      return;
    }
    let settle = () => {};
    const mine = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const timer = setTimeout(settle, 5000);
    timer.unref();
    patching.set(id, mine);
    datastore.afterWrite.set(id, settle);
    void mine.then(() => {
      clearTimeout(timer);
      if (patching.get(id) === mine) patching.delete(id);
      if (datastore.afterWrite.get(id) === settle) datastore.afterWrite.delete(id);
    });
    try {
      await tus.handle(req, res);
    } finally {
      settle();
    }
  }

  return {
    async handle(req, res, url) {
      try {
        if (fail.n > 0) {
          fail.n--;
          await drain(req);
          const headers: Record<string, string> = fail.status === 429 ? { 'retry-after': '1' } : {};
          return sendJson(res, fail.status, { statusCode: String(fail.status), error: 'injected', message: `injected HTTP ${fail.status} (test failure injection)` }, headers);
        }
        const parts = url.pathname.split('/').slice(3).map((s) => decodeURIComponent(s)); // after /storage/v1/
        if (parts[0] === 'upload' && parts[1] === 'resumable') return await resumable(req, res);
        if (parts[0] === 'object' && parts.length >= 2) return await objects(req, res, parts.slice(1));
        await drain(req);
        sendJson(res, 404, { statusCode: '404', error: 'Not Found', message: `Route ${req.method}:${url.pathname} not found` });
      } catch (e) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const err = e instanceof StorageError ? e : new StorageError(500, 'InternalError', 'Internal', (e as Error).message);
        sendError(res, err, req.method === 'HEAD');
      }
    },
    failNext(n, status) {
      fail = { n, status };
    },
    get fileSizeLimit() {
      return self.fileSizeLimit;
    },
    set fileSizeLimit(bytes: number) {
      self.fileSizeLimit = bytes;
    },
    objectFile(bucket, name) {
      const f = fileOf(bucket, name);
      return existsSync(f) ? f : null;
    },
    openUploads() {
      return open.size;
    },
    close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
