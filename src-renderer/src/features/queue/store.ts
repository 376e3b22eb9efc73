import type { QueueState } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

export interface QueueSlice {
  /** The engine's queue summary; null until the first answer. */
  readonly queue: QueueState | null;
  /** Finished jobs cleared from the Queue's list (by this window or another front door). They stay in the store for the Workspace's cards. */
  readonly clearedJobs: Readonly<Record<string, true>>;
  setQueue(queue: QueueState): void;
  markCleared(ids: readonly string[]): void;
  /**
   * Shows the waiting jobs in this order at once (a drag or Move up/down), before the engine's
   * answer and the re-read positions arrive and confirm it.
   */
  showQueuedOrder(ids: readonly string[]): void;
}

export const createQueueSlice: SliceCreator<QueueSlice> = (set) => ({
  queue: null,
  clearedJobs: {},
  setQueue: (queue) => set({ queue }),
  markCleared: (ids) =>
    set((s) => {
      const fresh = ids.filter((id) => !s.clearedJobs[id]);
      if (fresh.length === 0) return {};
      const clearedJobs = { ...s.clearedJobs };
      for (const id of fresh) clearedJobs[id] = true;
      return { clearedJobs };
    }),
  showQueuedOrder: (ids) =>
    set((s) => {
      const jobs = { ...s.jobs };
      ids.forEach((id, position) => {
        const job = jobs[id];
        if (job && job.status.state === 'queued' && job.position !== position) jobs[id] = { ...job, position };
      });
      return { jobs };
    }),
});
