import type { WireError } from '../contract.ts';

/** An error from the engine (or from reaching it), carrying the wire shape every front door uses. */
export class StudioApiError extends Error {
  readonly wire: WireError;
  readonly channel: string | null;

  constructor(wire: WireError, channel: string | null = null) {
    super(wire.message);
    this.name = 'StudioApiError';
    this.wire = wire;
    this.channel = channel;
  }

  get code(): string {
    return this.wire.code;
  }
}

function isWireError(value: unknown): value is WireError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

// Electron prefixes rejected invoke() calls with this; the user should only see the engine's sentence.
const IPC_PREFIX = /^Error invoking remote method '[^']+': (?:[A-Za-z]*Error: )?/;

/** Whatever was thrown (HTTP client, Electron IPC, a bug), as a WireError a person can read. */
export function toWireError(error: unknown): WireError {
  if (error instanceof StudioApiError) return error.wire;
  if (isWireError(error)) {
    return { code: error.code, message: error.message.replace(IPC_PREFIX, ''), field: error.field };
  }
  if (error instanceof Error) {
    const message = error.message.replace(IPC_PREFIX, '');
    return { code: 'error', message: message || 'Something went wrong.' };
  }
  return { code: 'error', message: String(error) };
}
