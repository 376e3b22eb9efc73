/**
 * What the user can ask the engine to do. Each action writes the engine's answer into the store and
 * turns a failure into a toast, so components stay declarative.
 */
import { toWireError } from './api/errors.ts';
import type { GenerateRequest, JobView, StudioApi, WireError } from './contract.ts';
import type { StudioStore } from './store.ts';
import { applyPlacement, runAgainRequest } from './features/queue/logic.ts';
import { selectQueuedIds } from './features/queue/selectors.ts';

export interface StudioActions {
  /** Resolves with the new job, or with the error (already shown as a toast) when it was refused. */
  enqueue(request: GenerateRequest): Promise<{ job: JobView } | { error: WireError }>;
  cancel(id: string): Promise<void>;
  retry(id: string): Promise<void>;
  moveToFront(id: string): Promise<void>;
  /** Puts a waiting job just ahead of another (or last, `before` null); the list shows it at once. */
  reorder(id: string, before: string | null): Promise<void>;
  /** Clears finished jobs from the Queue's list: these, or all. Nothing is deleted. */
  clearFinished(ids?: readonly string[]): Promise<void>;
  /** Queues a finished job again with the same settings and seed. */
  runAgain(job: JobView): Promise<void>;
  pauseQueue(): Promise<void>;
  resumeQueue(): Promise<void>;
  refreshModels(): Promise<void>;
}

export function createActions(api: StudioApi, store: StudioStore): StudioActions {
  const s = () => store.getState();
  const fail = (title: string, error: unknown): WireError => {
    const wire = toWireError(error);
    s().notify({ kind: 'error', title, message: wire.message });
    return wire;
  };
  const jobAction = (title: string, run: (id: string) => Promise<JobView>) => async (id: string) => {
    try {
      s().upsertJobs([await run(id)]);
    } catch (error) {
      fail(title, error);
    }
  };

  return {
    async enqueue(request) {
      try {
        const job = await api.jobs.enqueue({ request, idempotencyKey: crypto.randomUUID() });
        s().upsertJobs([job]);
        s().markSubmitted(job.id);
        return { job };
      } catch (error) {
        return { error: fail('Could not queue the job', error) };
      }
    },
    cancel: jobAction('Could not cancel the job', (id) => api.jobs.cancel({ id })),
    retry: jobAction('Could not retry the job', (id) => api.jobs.retry({ id })),
    moveToFront: jobAction('Could not move the job to the front', (id) => api.jobs.moveToFront({ id })),
    async reorder(id, before) {
      s().showQueuedOrder(applyPlacement(selectQueuedIds(s()), { id, before }));
      try {
        s().upsertJobs([await api.jobs.reorder({ id, before })]);
      } catch (error) {
        fail('Could not move the job', error);
        // Put the list back as the engine has it.
        api.jobs.list({ states: ['queued'] }).then((jobs) => s().upsertJobs(jobs), () => undefined);
      }
    },
    async clearFinished(ids) {
      try {
        const cleared = await api.jobs.clearFinished(ids ? { ids: [...ids] } : undefined);
        s().markCleared(ids ? [...new Set([...cleared.ids, ...ids])] : cleared.ids);
      } catch (error) {
        fail('Could not clear finished jobs', error);
      }
    },
    async runAgain(job) {
      try {
        s().upsertJobs([await api.jobs.enqueue({ request: runAgainRequest(job), idempotencyKey: crypto.randomUUID() })]);
      } catch (error) {
        fail('Could not queue the job again', error);
      }
    },
    async pauseQueue() {
      try {
        s().setQueue(await api.queue.pause());
      } catch (error) {
        fail('Could not pause the queue', error);
      }
    },
    async resumeQueue() {
      try {
        s().setQueue(await api.queue.resume());
      } catch (error) {
        fail('Could not resume the queue', error);
      }
    },
    async refreshModels() {
      try {
        s().setModels(await api.models.list());
      } catch (error) {
        fail('Could not load the model list', error);
      }
    },
  };
}
