/**
 * The one door from the window to the engine. Every channel is registered here, through one wrapper
 * that (1) refuses callers other than the app's own main frame, (2) parses params with the
 * contract's schema and (3) answers with an envelope, so the renderer always gets a value or a
 * WireError and never a bare rejected invoke.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents, WebFrameMain } from 'electron';
import type { z } from 'zod';
import { CHANNELS, EVENT_NAMES, channels, describeIssues } from '../../src-preload/contract/index.ts';
import type { EventName, Events, Handlers, WireError } from '../../src-preload/contract/index.ts';
import type { IpcEnvelope } from '../../src-preload/bridge.ts';
import { toWireError } from '../engine/errors.ts';
import { isAppUrl } from './origin.ts';

/** What the gateway reads of a sender frame. */
export type SenderFrame = Pick<WebFrameMain, 'url' | 'parent'>;

/** Trusted: the top frame of a page served from the app itself (dev server or the app scheme). */
export function isTrustedSender(frame: SenderFrame | null | undefined, appUrl: string): boolean {
  if (!frame) return false; // navigated away or destroyed while the call was in flight
  if (frame.parent !== null) return false; // iframes never reach the engine
  return isAppUrl(frame.url, appUrl);
}

/** The fields of an invoke event the gateway reads. */
export type InvokeEvent = Pick<IpcMainInvokeEvent, 'senderFrame'>;

/** What the gateway touches on ipcMain (electron's real ipcMain fits; so does the test mock). */
export interface GatewayIpcMain {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler: IpcMain['removeHandler'];
}

export interface GatewayOptions {
  readonly ipcMain: GatewayIpcMain;
  readonly handlers: Handlers;
  /** The URL the window loads; sender frames must come from its origin. */
  readonly appUrl: string;
  /** Told about refused calls and handler failures (not about ordinary errors such as bad params). */
  readonly log?: (message: string, detail?: unknown) => void;
}

const fail = (error: WireError): IpcEnvelope => ({ ok: false, error });

/** The contract's sentence for the issues, naming the first bad field (an unexpected key by name). */
function paramsProblem(error: z.ZodError): WireError {
  const first = error.issues[0];
  const path = first ? first.path.map(String) : [];
  if (first?.code === 'unrecognized_keys' && first.keys[0] !== undefined) path.push(first.keys[0]);
  return { code: 'invalid_params', message: describeIssues(error).message, field: path.join('.') || 'params' };
}

/** Registers every contract channel once. Returns a function that removes them again. */
export function registerIpcGateway(options: GatewayOptions): () => void {
  const { ipcMain, handlers, appUrl } = options;
  const log = options.log ?? (() => {});

  for (const channel of CHANNELS) {
    const schema: z.ZodType = channels[channel].params;
    // Handlers is a mapped type; indexing it with a union loses the per-channel pairing that the
    // schema above re-establishes at runtime, so the call goes through one honest widening.
    const handler = handlers[channel] as (params: unknown) => Promise<unknown>;

    ipcMain.handle(channel, async (event, ...args): Promise<IpcEnvelope> => {
      const frame = event.senderFrame;
      if (!isTrustedSender(frame, appUrl)) {
        log(`refused ${channel} from ${frame ? frame.url : 'a destroyed frame'}`);
        return fail({ code: 'untrusted_sender', message: `${channel} may only be called by the studio window itself.` });
      }
      if (args.length > 1) {
        return fail({ code: 'invalid_params', message: `${channel} takes one params object (got ${args.length} arguments).`, field: 'params' });
      }
      const parsed = schema.safeParse(args[0]);
      if (!parsed.success) return fail(paramsProblem(parsed.error));
      try {
        return { ok: true, value: await handler(parsed.data) };
      } catch (e) {
        const wire = toWireError(e);
        if (wire.code === 'internal') log(`${channel} failed`, e);
        return fail(wire);
      }
    });
  }

  return () => {
    for (const channel of CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** How the engine lets a front door listen (Engine#on). */
export type Subscribe = <E extends EventName>(event: E, listener: (payload: Events[E]) => void) => () => void;

/** Where events go: the window's contents, looked up on each event since the window can be re-created. */
export type EventTarget = Pick<WebContents, 'send' | 'isDestroyed'>;

/** Forwards every contract event to the window under the event's own name. Returns an unsubscribe. */
export function forwardEvents(subscribe: Subscribe, target: () => EventTarget | null): () => void {
  const unsubscribes = EVENT_NAMES.map((event) =>
    subscribe(event, (payload) => {
      const contents = target();
      if (contents && !contents.isDestroyed()) contents.send(event, payload);
    }),
  );
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
