/**
 * Calls a contract channel from outside Electron: the params are parsed with the channel's zod
 * schema first (as main's IPC gateway does), so the handler only ever sees valid input.
 */
import { channels, describeIssues } from '../../src-preload/contract/index.ts';
import type { Channel, Handlers, Result } from '../../src-preload/contract/index.ts';

export function isChannel(name: string): name is Channel {
  return Object.hasOwn(channels, name);
}

/** Parses `params` with the channel's schema (throws ParamError naming the field) and runs the handler. */
export async function invoke<C extends Channel>(handlers: Handlers, channel: C, params: unknown): Promise<Result<C>> {
  const parsed = channels[channel].params.safeParse(params);
  if (!parsed.success) throw describeIssues(parsed.error);
  const handler = handlers[channel] as (p: unknown) => Promise<Result<C>>;
  return handler(parsed.data);
}

/** HTTP status for a wire error code: the engine's refusals are conflicts with the current state. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case 'invalid_params':
    case 'invalid_json':
    case 'bad_request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
    case 'unknown_channel':
      return 404;
    case 'method_not_allowed':
      return 405;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'internal':
      return 500;
    default:
      return 409;
  }
}
