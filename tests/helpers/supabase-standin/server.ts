/**
 * A loopback stand-in for the two Supabase HTTP services the sync engine's supabase-js calls reach,
 * in front of a REAL PostgreSQL with the real migration:
 *
 *   POST /auth/v1/token?grant_type=password       (GoTrue) email + password → a session whose access
 *   POST /auth/v1/token?grant_type=refresh_token   token is an HS256 JWT {sub, role: authenticated,
 *   POST /auth/v1/logout                           aud, email, exp} for a row in auth.users
 *   POST /auth/v1/signup                           a new account: a session at once, or (option
 *                                                  `confirmEmail`, Supabase's default) a user to
 *                                                  confirm by email first, no session
 *   POST /auth/v1/recover                          a password reset link: 200 {} for any address
 *   POST /rest/v1/rpc/sync_push | sync_pull        (PostgREST) the function run in a transaction as
 *                                                  `SET LOCAL ROLE authenticated` with the JWT's
 *                                                  claims in request.jwt.claims, as PostgREST does
 *
 * Request and response shapes follow what supabase-js 2.x sends and reads (auth-js
 * `signInWithPassword` → `/token?grant_type=password` with `{email, password,
 * gotrue_meta_security}`, a session needing access_token, refresh_token, expires_in and user;
 * postgrest-js `rpc()` → POST with the arguments as a JSON object, the `apikey` and
 * `Authorization: Bearer` headers, errors as `{code, message, details, hint}`). Written here from those
 * facts. Emulated: Auth (passwords are kept in this process, not hashed in auth.users) and the HTTP
 * front of PostgREST; real: PostgreSQL, RLS, triggers and the push/pull functions.
 *
 * For tests: every request is counted by path, `stop()`/`start()` take the server down and up on the
 * same port, and `dropResponses(n)` runs the next n RPCs to commit and then cuts the connection before
 * answering (the client cannot know whether its push applied); `failNext(n, status)` answers the next n
 * RPCs with that HTTP status (500, 503, 429 …) without running them, as an overloaded or failing
 * PostgREST or proxy in front of it would.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import pg from 'pg';
import { createStorageStandin, type StorageStandin } from './storage.ts';

export interface StandinOptions {
  /** How to reach the PostgreSQL (socket folder, port, superuser). */
  readonly pg: { host: string; port: number; user: string; database?: string };
  /** Access token lifetime (seconds). */
  readonly tokenSeconds?: number;
  /** The project's global upload limit in bytes for /storage/v1 (default 50 MB, Supabase's free plan). */
  readonly fileSizeLimit?: number;
  /**
   * Sign-ups wait for an emailed confirmation (Supabase's default on hosted projects): no session,
   * password sign-in refused with GoTrue's `email_not_confirmed` until `confirm(email)`. Default off.
   */
  readonly confirmEmail?: boolean;
  /** The shortest password sign-up takes (GoTrue's default 6); shorter: 422 `weak_password`. */
  readonly passwordMinLength?: number;
}

/** An email Supabase Auth would have sent (the tests read them instead of an inbox). */
export interface StandinEmail {
  readonly kind: 'confirm' | 'recover';
  readonly to: string;
}

export interface Standin {
  readonly url: string;
  readonly anonKey: string;
  /** /storage/v1: objects and TUS resumable uploads (storage.ts). */
  readonly storage: StorageStandin;
  /** Requests seen, by method and path (query left off). */
  readonly requests: Map<string, number>;
  requestCount(prefix?: string): number;
  /** Adds a user to auth.users with this password (confirmed); returns its id. */
  addUser(email: string, password: string): Promise<string>;
  /** Sign-ups wait for an emailed confirmation (on) or get a session at once (off). */
  setConfirmEmail(on: boolean): void;
  /** The person opened the confirmation link: password sign-in works from now on. */
  confirm(email: string): void;
  /** The emails sent (confirmation links, password reset links), oldest first. */
  readonly emails: readonly StandinEmail[];
  /** The next n requests that would send an email (sign-up, recover) get 429 `over_email_send_rate_limit`. */
  limitEmails(n: number): void;
  dropResponses(n: number): void;
  /** The next n RPCs are answered with this status and run nothing (a failing server or proxy). */
  failNext(n: number, status: number): void;
  /** A new signing key: every access token out there stops working (refresh tokens still do). */
  rotateSigningKey(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function signJwt(secret: string, payload: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function verifyJwt(secret: string, token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const want = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return null;
  return claims;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : {};
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** PostgREST's HTTP status for a PostgreSQL error code (its documented mapping, the cases that occur here). */
function statusOf(code: string | undefined): number {
  if (!code) return 500;
  if (code === '42501') return 403;
  if (code === '42883' || code === '42P01') return 404;
  if (code.startsWith('23')) return code === '23505' ? 409 : 400;
  if (code.startsWith('22') || code === 'P0001') return 400;
  if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57')) return 503;
  return 400;
}

export async function startStandin(options: StandinOptions): Promise<Standin> {
  let secret = randomUUID();
  const anonKey = signJwt(secret, { role: 'anon', iss: 'supabase-standin' });
  const pool = new pg.Pool({ ...options.pg, database: options.pg.database ?? 'postgres', max: 4 });
  // pool.end() resolves before its last connections have closed; one the cluster then shuts down
  // reports an error here, which would otherwise be an unhandled 'error' event failing the run.
  pool.on('error', () => undefined);
  const passwords = new Map<string, { id: string; password: string; confirmed: boolean }>();
  const emails: StandinEmail[] = [];
  let confirmEmail = options.confirmEmail ?? false;
  let emailLimit = 0;
  const refreshTokens = new Map<string, string>();
  const requests = new Map<string, number>();
  const sockets = new Set<Socket>();
  let drop = 0;
  let fail = { n: 0, status: 503 };
  let port = 0;
  let server: Server | null = null;

  const session = (id: string, email: string) => {
    const seconds = options.tokenSeconds ?? 3600;
    const now = Math.floor(Date.now() / 1000);
    const refresh = randomUUID();
    refreshTokens.set(refresh, email);
    return {
      access_token: signJwt(secret, { sub: id, role: 'authenticated', aud: 'authenticated', email, iat: now, exp: now + seconds, session_id: randomUUID() }),
      token_type: 'bearer',
      expires_in: seconds,
      expires_at: now + seconds,
      refresh_token: refresh,
      user: { id, aud: 'authenticated', role: 'authenticated', email, app_metadata: { provider: 'email' }, user_metadata: {}, created_at: new Date().toISOString() },
    };
  };

  async function auth(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.headers.apikey !== anonKey) return send(res, 401, { message: 'Invalid API key' });
    const path = url.pathname;
    if (path === '/auth/v1/logout') {
      res.writeHead(204).end();
      return;
    }
    if (path === '/auth/v1/signup') return signup(req, res);
    if (path === '/auth/v1/recover') return recover(req, res);
    if (path !== '/auth/v1/token') return send(res, 404, { code: 'not_found', msg: 'not found' });
    const grant = url.searchParams.get('grant_type');
    const b = (await body(req)) as { email?: string; password?: string; refresh_token?: string };
    if (grant === 'password') {
      const user = b.email ? passwords.get(b.email.toLowerCase()) : undefined;
      if (!user || user.password !== b.password) {
        return send(res, 400, { code: 'invalid_credentials', error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
      }
      if (!user.confirmed) return authError(req, res, 400, 'email_not_confirmed', 'Email not confirmed');
      return send(res, 200, session(user.id, b.email!.toLowerCase()));
    }
    if (grant === 'refresh_token') {
      const email = b.refresh_token ? refreshTokens.get(b.refresh_token) : undefined;
      if (!email) return send(res, 400, { code: 'refresh_token_not_found', error_code: 'refresh_token_not_found', msg: 'Invalid Refresh Token' });
      refreshTokens.delete(b.refresh_token!);
      return send(res, 200, session(passwords.get(email)!.id, email));
    }
    return send(res, 400, { code: 'unsupported_grant_type', msg: `grant_type ${grant} is not supported here` });
  }

  /**
   * An Auth error as GoTrue writes it: for a client sending `X-Supabase-Api-Version: 2024-01-01`
   * (supabase-js does) the version is echoed and the body is `{code, message}` (internal/api/errors.go);
   * before that, `{code: status, error_code, msg}`.
   */
  function authError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
    const version = req.headers['x-supabase-api-version'];
    if (typeof version === 'string' && version >= '2024-01-01') {
      res.setHeader('x-supabase-api-version', '2024-01-01');
      return send(res, status, { code, message, ...extra });
    }
    return send(res, status, { code: status, error_code: code, msg: message, ...extra });
  }

  const userJson = (id: string, email: string, confirmed: boolean, identities: boolean) => ({
    id,
    aud: 'authenticated',
    role: 'authenticated',
    email,
    ...(confirmed ? { email_confirmed_at: new Date().toISOString() } : { confirmation_sent_at: new Date().toISOString() }),
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    identities: identities ? [{ identity_id: randomUUID(), id, user_id: id, provider: 'email', identity_data: { sub: id, email } }] : [],
    created_at: new Date().toISOString(),
  });

  /**
   * POST /auth/v1/signup as GoTrue answers it (internal/api/signup.go): a password under the minimum
   * is 422 weak_password with its reasons; a taken address is 422 user_already_exists when addresses
   * are not confirmed by email, and with confirmation on an obfuscated user (a new id, no identities)
   * so that nobody learns who has an account; a new account gets a session at once (confirmation off)
   * or a user and a confirmation email (on).
   */
  async function signup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = (await body(req)) as { email?: string; password?: string };
    const email = (b.email ?? '').trim().toLowerCase();
    const password = b.password ?? '';
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return authError(req, res, 400, 'email_address_invalid', `Email address "${b.email ?? ''}" is invalid`);
    const min = options.passwordMinLength ?? 6;
    if (password.length < min) {
      return authError(req, res, 422, 'weak_password', `Password should be at least ${min} characters.`, { weak_password: { reasons: ['length'] } });
    }
    const known = passwords.get(email);
    if (known && !confirmEmail) return authError(req, res, 422, 'user_already_exists', 'User already registered');
    if (confirmEmail && emailLimit > 0) {
      emailLimit--;
      return authError(req, res, 429, 'over_email_send_rate_limit', 'email rate limit exceeded');
    }
    if (known) {
      if (!known.confirmed) emails.push({ kind: 'confirm', to: email }); // sent again
      return send(res, 200, userJson(randomUUID(), email, false, false));
    }
    const id = randomUUID();
    await pool.query('insert into auth.users (id, email) values ($1, $2)', [id, email]);
    passwords.set(email, { id, password, confirmed: !confirmEmail });
    if (!confirmEmail) return send(res, 200, session(id, email));
    emails.push({ kind: 'confirm', to: email });
    return send(res, 200, userJson(id, email, false, true));
  }

  /** POST /auth/v1/recover: 200 {} for any address; a link is sent only to one with an account. */
  async function recover(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = (await body(req)) as { email?: string };
    const email = (b.email ?? '').trim().toLowerCase();
    if (email === '') return authError(req, res, 422, 'validation_failed', 'Password recovery requires an email');
    if (emailLimit > 0) {
      emailLimit--;
      return authError(req, res, 429, 'over_email_send_rate_limit', 'email rate limit exceeded');
    }
    if (passwords.has(email)) emails.push({ kind: 'recover', to: email });
    return send(res, 200, {});
  }

  async function rpc(req: IncomingMessage, res: ServerResponse, fn: string): Promise<void> {
    if (fail.n > 0) {
      fail.n--;
      await body(req);
      if (fail.status === 429) res.setHeader('retry-after', '1');
      return send(res, fail.status, { code: '', message: `injected HTTP ${fail.status} (test failure injection)`, details: null, hint: null });
    }
    if (req.headers.apikey !== anonKey) return send(res, 401, { message: 'Invalid API key' });
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const claims = bearer ? verifyJwt(secret, bearer) : null;
    if (!claims) return send(res, 401, { code: 'PGRST301', message: 'JWT invalid or expired', details: null, hint: null });
    const role = claims.role === 'authenticated' ? 'authenticated' : 'anon';
    const args = (await body(req)) as Record<string, unknown>;
    let sql: string;
    let params: unknown[];
    if (fn === 'sync_push') {
      sql = 'select public.sync_push($1::jsonb) as r';
      params = [JSON.stringify(args.ops ?? null)];
    } else if (fn === 'sync_pull') {
      sql = 'select entity, entity_id, seq, data from public.sync_pull($1, $2)';
      params = [args.since ?? null, args.lim ?? 500];
    } else if (fn === 'sync_file_in_use') {
      sql = 'select public.sync_file_in_use($1, $2) as r';
      params = [args.bucket ?? null, args.path ?? null];
    } else {
      return send(res, 404, { code: 'PGRST202', message: `Could not find the function public.${fn} in the schema cache`, details: null, hint: null });
    }
    const client = await pool.connect();
    let out: unknown;
    try {
      await client.query('begin');
      await client.query(`set local role ${role}`);
      await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
      const r = await client.query(sql, params);
      await client.query('commit');
      out = fn === 'sync_push' || fn === 'sync_file_in_use' ? r.rows[0]?.r : r.rows.map((x: { seq: string }) => ({ ...x, seq: Number(x.seq) }));
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      const err = e as { code?: string; message: string; detail?: string; hint?: string };
      return send(res, statusOf(err.code), { code: err.code ?? '', message: err.message, details: err.detail ?? null, hint: err.hint ?? null });
    } finally {
      client.release();
    }
    if (drop > 0) {
      drop--;
      req.socket.destroy(); // applied and committed, but the answer never arrives
      return;
    }
    send(res, 200, out);
  }

  const storage = createStorageStandin({ pool, secret: () => secret, fileSizeLimit: options.fileSizeLimit });

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const key = `${req.method} ${url.pathname}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    const done = (p: Promise<void>) =>
      p.catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, { message: (e as Error).message });
      });
    if (req.method === 'POST' && url.pathname.startsWith('/auth/v1/')) return void done(auth(req, res, url));
    const m = /^\/rest\/v1\/rpc\/([a-z_]+)$/.exec(url.pathname);
    if (req.method === 'POST' && m) return void done(rpc(req, res, m[1]!));
    if (url.pathname.startsWith('/storage/v1/')) return void storage.handle(req, res, url);
    send(res, 404, { message: `${key} is not served by this stand-in` });
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      if (server) return resolve(); // already up
      const s = createServer(handler);
      s.on('connection', (sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      for (const sock of sockets) sock.destroy();
      s.close(() => resolve());
    });

  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    anonKey,
    storage,
    requests,
    requestCount(prefix = '') {
      let n = 0;
      for (const [k, v] of requests) if (k.split(' ')[1]!.startsWith(prefix)) n += v;
      return n;
    },
    async addUser(email, password) {
      const id = randomUUID();
      await pool.query('insert into auth.users (id, email) values ($1, $2)', [id, email]);
      passwords.set(email.toLowerCase(), { id, password, confirmed: true });
      return id;
    },
    setConfirmEmail(on) {
      confirmEmail = on;
    },
    confirm(email) {
      const user = passwords.get(email.toLowerCase());
      if (!user) throw new Error(`no account for ${email} in the stand-in`);
      user.confirmed = true;
    },
    emails,
    limitEmails(n) {
      emailLimit = n;
    },
    dropResponses(n) {
      drop = n;
    },
    failNext(n, status) {
      fail = { n, status };
    },
    rotateSigningKey() {
      secret = randomUUID();
    },
    stop,
    start,
    async close() {
      await stop();
      storage.close();
      await pool.end();
    },
  };
}
