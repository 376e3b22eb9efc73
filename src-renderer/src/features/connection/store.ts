import type { ConnectionState } from '../../api/connection.ts';
import type { SliceCreator } from '../../store-types.ts';

export interface ConnectionSlice {
  readonly connection: ConnectionState;
  setConnection(state: ConnectionState): void;
}

export const createConnectionSlice: SliceCreator<ConnectionSlice> = (set) => ({
  connection: 'idle',
  setConnection: (connection) => set({ connection }),
});
