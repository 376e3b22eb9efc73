/**
 * How the renderer is linked to the engine: always "open" in Electron, a WebSocket under `studio serve`.
 *
 * - `reconnecting`: the event stream dropped and the server still answers (a blip); it comes back.
 * - `stopped`: the server does not answer at all — `studio serve` stopped. Tried again, slower.
 * - `refused`: a server answers on this address but refuses this tab's token: `studio serve` was
 *   started again, with a new link. Nothing is retried; only the new link gets back in.
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'stopped' | 'refused' | 'closed';

/** Whether what the window shows of running jobs can no longer be trusted (no live updates reach it). */
export function isCutOff(state: ConnectionState): boolean {
  return state === 'stopped' || state === 'refused';
}

export interface Connection {
  readonly state: ConnectionState;
  onState(listener: (state: ConnectionState) => void): () => void;
  /** Opens the event stream now rather than on the first subscription. */
  connect(): void;
  close(): void;
}

/** Electron's IPC never drops, so its connection is simply open. */
export const alwaysOpen: Connection = {
  state: 'open',
  onState: () => () => {},
  connect: () => {},
  close: () => {},
};
