/**
 * Builds the renderer-facing `StudioApi` from the contract: one verb per channel
 * (`studio.jobs.enqueue(params)`) and one subscription per event (`studio.jobs.onChanged(cb) → unsubscribe`).
 *
 * Everything is derived by iterating CHANNELS and EVENT_NAMES, so a new channel needs no code here.
 * The IPC object is passed in (pure function) and never escapes: callers get verbs, listeners get
 * payloads, never the IPC event.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { CHANNELS, EVENT_NAMES, eventVerb, splitName } from './contract/index.ts';
import type { Channel, StudioApi, WireError } from './contract/index.ts';

/** What main answers to every invoke: a value, or an error a person can read. */
export type IpcEnvelope<T = unknown> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireError };

/**
 * The part of electron's ipcRenderer the bridge uses, in electron's own parameter types; return
 * values other than invoke's are ignored, hence `unknown` rather than electron's `this`.
 */
export interface IpcRendererLike {
  invoke: IpcRenderer['invoke'];
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
}

/** A failed call: the engine's WireError as an Error, so `catch (e)` sees message, code and field. */
export class StudioCallError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly channel: Channel;
  constructor(wire: WireError, channel: Channel) {
    super(wire.message);
    this.name = 'StudioCallError';
    this.code = wire.code;
    this.field = wire.field;
    this.channel = channel;
  }
}

/** The plain shape a rejection takes across Electron's contextBridge (see `toCrossWorldError`). */
export interface CrossWorldError extends WireError {
  readonly name: 'StudioError';
  readonly channel: Channel;
}

/**
 * Electron's contextBridge rebuilds an Error in the page's world from its `message` alone, so `code`
 * and `field` would be lost on the way. A plain object is copied whole; the renderer's `toWireError`
 * reads either form.
 */
export function toCrossWorldError(wire: WireError, channel: Channel): CrossWorldError {
  return Object.freeze({
    name: 'StudioError',
    code: wire.code,
    message: wire.message,
    ...(wire.field === undefined ? {} : { field: wire.field }),
    channel,
  });
}

export interface BridgeOptions {
  /** What a failed call rejects with. Defaults to a `StudioCallError`. */
  readonly rejectWith?: (wire: WireError, channel: Channel) => unknown;
}

function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string' && (v.field === undefined || typeof v.field === 'string');
}

/** Reads main's answer; anything that is not an envelope is reported, never passed through. */
function readEnvelope(channel: Channel, answer: unknown): IpcEnvelope {
  if (typeof answer === 'object' && answer !== null) {
    const a = answer as Record<string, unknown>;
    if (a.ok === true && 'value' in a) return { ok: true, value: a.value };
    if (a.ok === false && isWireError(a.error)) return { ok: false, error: a.error };
  }
  return {
    ok: false,
    error: { code: 'bad_response', message: `The studio engine sent an unreadable answer to ${channel}. Restart the app; if it persists, report it.` },
  };
}

export function buildStudioApi(ipc: IpcRendererLike, options: BridgeOptions = {}): StudioApi {
  const reject = options.rejectWith ?? ((wire: WireError, channel: Channel) => new StudioCallError(wire, channel));
  const api: Record<string, Record<string, unknown>> = {};

  const define = (namespace: string, verb: string, fn: unknown) => {
    const ns = (api[namespace] ??= {});
    // Two contract names mapping to one verb would silently shadow each other; fail loudly instead.
    if (Object.hasOwn(ns, verb)) throw new Error(`contract names collide on studio.${namespace}.${verb}`);
    ns[verb] = fn;
  };

  for (const channel of CHANNELS) {
    const [namespace, verb] = splitName(channel);
    define(namespace, verb, async (params?: unknown): Promise<unknown> => {
      let answer: unknown;
      try {
        answer = await ipc.invoke(channel, params);
      } catch (e) {
        throw reject(
          {
            code: 'ipc_failed',
            message: `The studio engine did not answer ${channel} (${e instanceof Error ? e.message : String(e)}). Restart the app.`,
          },
          channel,
        );
      }
      const envelope = readEnvelope(channel, answer);
      if (envelope.ok) return envelope.value;
      throw reject(envelope.error, channel);
    });
  }

  for (const event of EVENT_NAMES) {
    const [namespace] = splitName(event);
    define(namespace, eventVerb(event), (listener: unknown): (() => void) => {
      if (typeof listener !== 'function') throw new TypeError(`studio.${namespace}.${eventVerb(event)} needs a listener function`);
      // The IPC event object (sender, ports, reply) stays here; the page sees only the payload.
      const relay = (_event: IpcRendererEvent, payload: unknown) => {
        (listener as (payload: unknown) => void)(payload);
      };
      ipc.on(event, relay);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipc.removeListener(event, relay);
      };
    });
  }

  for (const ns of Object.values(api)) Object.freeze(ns);
  // The shape is the contract's by construction; the type test and preload.test.ts hold it there.
  return Object.freeze(api) as unknown as StudioApi;
}
