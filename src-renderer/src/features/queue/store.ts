import type { QueueState } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

export interface QueueSlice {
  /** The engine's queue summary; null until the first answer. */
  readonly queue: QueueState | null;
  setQueue(queue: QueueState): void;
}

export const createQueueSlice: SliceCreator<QueueSlice> = (set) => ({
  queue: null,
  setQueue: (queue) => set({ queue }),
});
