/** How the renderer is linked to the engine: always "open" in Electron, a WebSocket under `studio serve`. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

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
