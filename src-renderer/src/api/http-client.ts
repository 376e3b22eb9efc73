/**
 * The StudioApi over `studio serve`: `POST /api/<channel>` for calls, one WebSocket at `/api/events`
 * for pushed events. Every verb is derived from the contract's CHANNELS and EVENT_NAMES, so a new
 * channel needs no code here.
 *
 * The browser globals (fetch, WebSocket) are passed in, which keeps this file testable under Node.
 */
import { CHANNELS, EVENT_NAMES, eventVerb, splitName } from '../contract.ts';
import type { EventName, Events, StudioApi, WireError } from '../contract.ts';
import { StudioApiError } from './errors.ts';
import type { Connection, ConnectionState } from './connection.ts';

export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
}
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
) => Promise<ResponseLike>;

/** What the client needs told about one WebSocket. (An error is always followed by a close.) */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: unknown): void;
  onClose(): void;
}
export interface SocketLike {
  close(): void;
}

export interface HttpClientOptions {
  /** Origin (and optional path prefix) of the server, e.g. `http://127.0.0.1:5170`. */
  readonly baseUrl: string;
  readonly token: string;
  readonly fetch: FetchLike;
  readonly openSocket: (url: string, handlers: SocketHandlers) => SocketLike;
  /** Wait before reconnect attempt n (0-based). Defaults to 250 ms doubling up to 5 s. */
  readonly reconnectDelayMs?: (attempt: number) => number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  /** Where a throwing event listener is reported (it must not stop the others). */
  readonly onListenerError?: (error: unknown) => void;
}

export interface HttpStudioClient {
  readonly api: StudioApi;
  readonly connection: Connection;
}

const defaultDelay = (attempt: number) => Math.min(5000, 250 * 2 ** attempt);

function parseWireError(body: string): WireError | null {
  try {
    const parsed = JSON.parse(body) as { error?: Partial<WireError> };
    const e = parsed.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      return e.field === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, field: e.field };
    }
  } catch {
    // not JSON: fall through to a status-based message
  }
  return null;
}

function statusError(status: number): WireError {
  if (status === 401 || status === 403) {
    return {
      code: 'unauthorized',
      message: 'The studio server did not accept this tab’s link: it was started again with a new one. Open the link `studio serve` printed this time.',
    };
  }
  return { code: `http_${status}`, message: `The studio server answered with HTTP ${status}. Check its console for details.` };
}

export function createHttpStudioApi(options: HttpClientOptions): HttpStudioClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const delay = options.reconnectDelayMs ?? defaultDelay;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const reportListenerError = options.onListenerError ?? ((e: unknown) => console.error('studio event listener failed', e));

  const post = (channel: string, params: unknown) =>
    options.fetch(`${base}/api/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body: JSON.stringify(params ?? {}),
    });

  async function call(channel: string, params: unknown): Promise<unknown> {
    let response: ResponseLike;
    try {
      response = await post(channel, params);
    } catch {
      throw new StudioApiError(
        { code: 'unreachable', message: `Could not reach the studio server at ${base}. Is \`studio serve\` still running?` },
        channel,
      );
    }
    const body = await response.text();
    if (response.status === 401 || response.status === 403) {
      // The server's own sentence is for API clients (`Authorization: Bearer …`); a person needs the new link.
      refused();
      throw new StudioApiError(statusError(response.status), channel);
    }
    if (!response.ok) throw new StudioApiError(parseWireError(body) ?? statusError(response.status), channel);
    if (body === '') return undefined;
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new StudioApiError({ code: 'bad_response', message: `The studio server sent an unreadable answer to ${channel}.` }, channel);
    }
  }

  // ---- events: one socket, reconnecting, fanned out to listeners by event name ----
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'idle';
  let socket: SocketLike | null = null;
  let attempt = 0;
  let generation = 0;
  let timer: unknown = null;
  let closed = false;
  const known = new Set<string>(EVENT_NAMES);

  function setState(next: ConnectionState) {
    if (next === state) return;
    state = next;
    for (const l of [...stateListeners]) l(next);
  }

  function dispatch(raw: unknown) {
    if (typeof raw !== 'string') return;
    let message: { event?: unknown; payload?: unknown };
    try {
      message = JSON.parse(raw) as typeof message;
    } catch {
      return;
    }
    if (typeof message.event !== 'string' || !known.has(message.event)) return;
    for (const l of [...(listeners.get(message.event as EventName) ?? [])]) {
      try {
        l(message.payload);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  /** The server refused this tab's token (it was started again): stop trying; only a new link helps. */
  function refused() {
    if (closed) return;
    closed = true;
    if (timer !== null) clearTimer(timer);
    timer = null;
    generation += 1;
    const s = socket;
    socket = null;
    s?.close();
    setState('refused');
  }

  /**
   * After the event stream drops, asks the server whether it is there at all: no answer means it
   * stopped; a refusal means it was started again with a new token; an answer means a blip, and the
   * socket comes back by itself. (A browser WebSocket never says why its handshake failed.)
   */
  let probing = false;
  async function probe() {
    if (probing || closed) return;
    probing = true;
    try {
      const response = await post('queue.state', {});
      if (response.status === 401 || response.status === 403) refused();
    } catch {
      if (!closed && state !== 'open') setState('stopped');
    } finally {
      probing = false;
    }
  }

  function open() {
    if (closed) return;
    timer = null;
    // While the server is known to be gone, say so until it answers again (not "reconnecting").
    setState(attempt === 0 && state === 'idle' ? 'connecting' : state === 'stopped' ? 'stopped' : 'reconnecting');
    const wsBase = base.replace(/^http/, 'ws');
    // Each socket gets a generation; late callbacks from a replaced or closed socket are ignored.
    const gen = ++generation;
    const current = () => gen === generation && !closed;
    const handlers: SocketHandlers = {
      onOpen() {
        if (!current()) return;
        attempt = 0;
        setState('open');
      },
      onMessage(data) {
        if (current()) dispatch(data);
      },
      onClose() {
        if (!current()) return;
        generation += 1;
        socket = null;
        scheduleReconnect();
      },
    };
    try {
      const opened = options.openSocket(`${wsBase}/api/events?token=${encodeURIComponent(options.token)}`, handlers);
      if (current()) socket = opened;
    } catch {
      generation += 1;
      socket = null;
      scheduleReconnect();
    }
  }

  function scheduleReconnect() {
    if (state !== 'stopped') setState('reconnecting');
    const wait = delay(attempt);
    attempt += 1;
    timer = setTimer(open, wait);
    void probe();
  }

  function ensureSocket() {
    if (!closed && socket === null && timer === null && state !== 'connecting') open();
  }

  function subscribe(event: EventName, listener: (payload: unknown) => void): () => void {
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    // A wrapper per subscription, so subscribing the same function twice needs two unsubscribes.
    const entry = (payload: unknown) => listener(payload);
    set.add(entry);
    ensureSocket();
    return () => {
      set.delete(entry);
    };
  }

  // ---- the API object, built from the contract's names ----
  const api: Record<string, Record<string, unknown>> = {};
  for (const channel of CHANNELS) {
    const [namespace, verb] = splitName(channel);
    (api[namespace] ??= {})[verb] = (params?: unknown) => call(channel, params);
  }
  for (const event of EVENT_NAMES) {
    const [namespace] = splitName(event);
    (api[namespace] ??= {})[eventVerb(event)] = (listener: (payload: Events[typeof event]) => void) =>
      subscribe(event, listener as (payload: unknown) => void);
  }

  const connection: Connection = {
    get state() {
      return state;
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => {
        stateListeners.delete(listener);
      };
    },
    connect: ensureSocket,
    close() {
      closed = true;
      if (timer !== null) clearTimer(timer);
      timer = null;
      const s = socket;
      socket = null;
      s?.close();
      setState('closed');
    },
  };

  return { api: api as unknown as StudioApi, connection };
}
