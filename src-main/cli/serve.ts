/**
 * `studio serve`: the contract over loopback HTTP + WebSocket, and the built renderer as static files.
 *
 *   POST /api/<channel>        JSON body = params; `Authorization: Bearer <token>`; result as JSON,
 *                              errors as `{ error: WireError }` with a fitting status
 *   GET  /api/events?token=…   WebSocket (or subprotocol `bearer.<token>`): `{ event, payload }` for
 *                              every contract event
 *   GET  /studio-media/asset/<id>/original|thumb?key=…
 *                              library media by opaque id, with Range (media-route.ts)
 *   GET  /*                    out/renderer, `index.html` for app routes
 *
 * Bound to loopback only; every request must name this server in Host (and Origin, when sent).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { EVENT_NAMES } from '../../src-preload/contract/channels.ts';
import { RECIPE_FILE_BODY_BYTES } from '../../src-preload/contract/recipes.ts';
import type { EventName, Events, Handlers, WireError } from '../../src-preload/contract/channels.ts';
import { StudioError, toWireError } from '../engine/errors.ts';
import { httpStatusFor, invoke, isChannel } from './dispatch.ts';
import { bearerToken, hostAllowed, loopbackBindAddress, newToken, originAllowed, originFor, requestTarget, tokenMatches, tokenProtocol } from './http-guard.ts';
import { serveStatic } from './static-files.ts';
import { isMediaRequest, serveMedia } from './media-route.ts';
import type { MediaSource } from './media-route.ts';

/** What the server needs from the engine (a test can hand-write one). */
export interface ServeTarget {
  readonly handlers: Handlers;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Serves `/studio-media/…`; without it every media request is a 404. */
  readonly library?: MediaSource;
}

export interface ServeOptions {
  /** 0 or absent: any free port. */
  readonly port?: number;
  /** Loopback only: 127.0.0.1 (default), another 127.x address, ::1 or localhost. Anything else is refused. */
  readonly host?: string;
  /** The built renderer; default `out/renderer` of this checkout. */
  readonly rendererDir?: string;
  readonly maxBodyBytes?: number;
}

export interface RunningServer {
  /** `http://127.0.0.1:PORT`, no trailing slash: append `/api/<channel>`. */
  readonly url: string;
  /** The address to open in a browser: `http://127.0.0.1:PORT/#token=…` (the fragment never reaches a server log). */
  readonly openUrl: string;
  readonly token: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export const DEFAULT_RENDERER_DIR = path.resolve(import.meta.dirname, '../../out/renderer');
const MAX_BODY = 1024 * 1024;
/** Channels whose params carry a file's bytes: a dropped picture read for its recipe. */
const LARGE_BODY_CHANNELS: Readonly<Record<string, number>> = { 'recipes.fromFile': RECIPE_FILE_BODY_BYTES };
/** Progress previews are dropped for a client that lags this far behind; state changes never are. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const PING_MS = 30_000;
/** How long an answer sent before its request's body was read waits for the rest of that body. */
const DRAIN_MS = 10_000;

class HttpError extends Error {
  readonly wire: WireError;
  constructor(code: string, message: string) {
    super(message);
    this.wire = { code, message };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  const req = res.req as IncomingMessage | undefined;
  if (!req || req.complete) {
    res.end(text);
    return;
  }
  // Answered before the body was read (a refusal, or 413 for a body over the limit): the answer goes
  // out whole now, and the response ends only once the rest of the body was read and dropped (or the
  // client went, or DRAIN_MS passed). Closing with unread bytes would make the kernel reset the
  // connection, and the client would lose the answer it had already been sent.
  res.write(text);
  req.removeAllListeners('data');
  req.resume();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    res.end();
  };
  const timer = setTimeout(end, DRAIN_MS);
  timer.unref();
  req.once('end', end);
  req.once('close', end);
}

function sendError(res: ServerResponse, wire: WireError, extra: Record<string, string> = {}): void {
  sendJson(res, httpStatusFor(wire.code), { error: wire }, extra);
}

/**
 * The request body as text, at most `limit` bytes. Over the limit — declared or, for a chunked
 * body, as it arrives — the rest is drained unread and the caller answers 413 (the connection is
 * closed after the answer, so a client still sending gets the status, not a reset).
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): void => {
      req.removeAllListeners('data');
      req.resume();
      reject(new HttpError('payload_too_large', `request body is over ${limit} bytes`));
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        tooLarge();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const BAD_TARGET: WireError = { code: 'bad_request', message: 'the request target is not a path on this server' };

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  socket.destroy();
}

export async function startServer(engine: ServeTarget, options: ServeOptions = {}): Promise<RunningServer> {
  const bound = loopbackBindAddress(options.host);
  if (bound === null) {
    throw new StudioError(
      'not_loopback',
      `studio serve only listens on this machine (127.0.0.1, ::1 or localhost), not on ${JSON.stringify(options.host)}: the API can run jobs and read your library, so it is never exposed to the network`,
      { field: 'host' },
    );
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new StudioError('invalid_params', `port must be a whole number from 0 to 65535 (got ${port})`, { field: 'port' });
  }
  const token = newToken();
  const rendererDir = options.rendererDir ?? DEFAULT_RENDERER_DIR;
  const maxBody = options.maxBodyBytes ?? MAX_BODY;
  let listeningPort = 0;

  const guard = (req: IncomingMessage): WireError | null => {
    if (!hostAllowed(req.headers.host, listeningPort, bound)) {
      return { code: 'forbidden', message: `Host ${JSON.stringify(req.headers.host ?? '')} is not this machine; open ${originFor(bound, listeningPort)} instead` };
    }
    if (!originAllowed(req.headers.origin, listeningPort, bound)) {
      return { code: 'forbidden', message: `requests from ${JSON.stringify(req.headers.origin)} are not allowed` };
    }
    return null;
  };

  const api = async (req: IncomingMessage, res: ServerResponse, name: string): Promise<void> => {
    if (req.method !== 'POST') {
      sendError(res, { code: 'method_not_allowed', message: `use POST /api/${name} with the params as a JSON body` }, { Allow: 'POST' });
      return;
    }
    if (!tokenMatches(bearerToken(req.headers.authorization), token)) {
      sendError(
        res,
        { code: 'unauthorized', message: 'missing or wrong token: send `Authorization: Bearer <token>` with the token `studio serve` printed' },
        { 'WWW-Authenticate': 'Bearer' },
      );
      return;
    }
    if (!isChannel(name)) {
      sendError(res, { code: 'unknown_channel', message: `no channel named ${JSON.stringify(name)}` });
      return;
    }
    let params: unknown;
    try {
      const body = await readBody(req, Math.max(maxBody, LARGE_BODY_CHANNELS[name] ?? 0));
      params = body.trim() === '' ? undefined : JSON.parse(body);
    } catch (e) {
      sendError(res, e instanceof HttpError ? e.wire : { code: 'invalid_json', message: `the request body is not valid JSON: ${(e as Error).message}` });
      return;
    }
    try {
      const result = await invoke(engine.handlers, name, params);
      sendJson(res, 200, result ?? null);
    } catch (e) {
      sendError(res, toWireError(e));
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const denied = guard(req);
    if (denied) {
      sendError(res, denied);
      return;
    }
    const target = requestTarget(req.url);
    if (target === null) {
      sendError(res, BAD_TARGET, { Connection: 'close' });
      return;
    }
    const pathname = target.pathname;
    const work = isMediaRequest(req.url)
      ? serveMedia(req, res, { source: engine.library ?? null, token })
      : pathname.startsWith('/api/')
        ? api(req, res, pathname.slice('/api/'.length))
        : serveStatic(req, res, rendererDir);
    work.catch((e: unknown) => failRequest(res, e));
  };
  /** An error no route handled: answered if it still can be, never allowed to end the server (and its jobs). */
  const failRequest = (res: ServerResponse, e: unknown): void => {
    if (!res.headersSent) sendError(res, toWireError(e), { Connection: 'close' });
    else res.destroy();
  };
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      failRequest(res, e);
    }
  });
  // A loopback client sends its headers and a 1 MB body in milliseconds; Node's defaults (60 s for
  // headers, 300 s for a request) would let a stalled connection hold its socket for minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // CONNECT asks for a proxy tunnel, which this server is not; without a listener Node drops the
  // connection unanswered.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    rejectUpgrade(socket, 405, 'Method Not Allowed');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    handleProtocols: (protocols) => tokenProtocol(protocols, token) ?? false,
  });
  const alive = new WeakMap<WebSocket, boolean>();

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = requestTarget(req.url);
    if (url === null) return rejectUpgrade(socket, 400, 'Bad Request');
    if (url.pathname !== '/api/events') return rejectUpgrade(socket, 404, 'Not Found');
    if (guard(req)) return rejectUpgrade(socket, 403, 'Forbidden');
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (!tokenMatches(url.searchParams.get('token'), token) && tokenProtocol(offered, token) === null) {
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch {
      rejectUpgrade(socket, 400, 'Bad Request');
    }
  });

  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', () => ws.terminate());
    const unsubscribe = EVENT_NAMES.map((event) =>
      engine.on(event, (payload) => {
        if (ws.readyState !== ws.OPEN) return;
        if (event === 'jobs.progress' && ws.bufferedAmount > MAX_BUFFERED) return;
        ws.send(JSON.stringify({ event, payload }));
      }),
    );
    ws.on('close', () => unsubscribe.forEach((off) => off()));
  });

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, PING_MS);
  pinger.unref();

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new StudioError('port_in_use', `port ${port} is already in use on ${bound}: pick another with --port, or --port 0 for any free port`, { field: 'port' })
          : e,
      );
    };
    server.once('error', onError);
    server.listen({ port, host: bound, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  listeningPort = (server.address() as AddressInfo).port;
  const url = originFor(bound, listeningPort);

  let closing: Promise<void> | null = null;
  return {
    url,
    openUrl: `${url}/#token=${token}`,
    token,
    port: listeningPort,
    host: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(pinger);
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        wss.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          server.closeAllConnections();
        }, 1000).unref();
      });
      return closing;
    },
  };
}
