/**
 * Entry of the thread a model preparation runs on (see preparer.ts): the whole checkpoint is read
 * once to hash it and the graphs are built here, so the engine's event loop — the app's main
 * process — stays free. One thread per preparation; "cancel" aborts it between chunks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prepareCheckpoint, PrepareCancelledError } from './prepare.ts';
import type { PrepareProgress, PrepareResult } from './prepare.ts';
import { WeightFileError } from '../weights/errors.ts';

export const PREPARE_THREAD_MARK = 'ourvidz-prepare-thread';

export interface PrepareThreadStart {
  readonly mark: typeof PREPARE_THREAD_MARK;
  readonly source: string;
  /** A WAN 2.1 model's parts chosen one by one (source is the first), or null. */
  readonly sources: readonly string[] | null;
  readonly vae: string | null;
  readonly name: string | null;
  readonly modelsDir: string;
}

export type PrepareThreadMessage =
  | { readonly type: 'progress'; readonly progress: PrepareProgress }
  | { readonly type: 'done'; readonly result: PrepareResult }
  | { readonly type: 'cancelled' }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

/** The code and sentence a failure is shown with. */
export function describePrepareFailure(e: unknown, modelsDir: string): { code: string; message: string } {
  if (e instanceof WeightFileError) return { code: e.code, message: e.message };
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  if (errno === 'ENOSPC') return { code: 'disk_full', message: `the disk holding ${modelsDir} is full: free some space and add the model again` };
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS') {
    return { code: 'unwritable', message: `the studio cannot write to ${modelsDir} (${errno}): check the data folder's permissions` };
  }
  return { code: 'prepare_failed', message: (e as Error)?.message ?? String(e) };
}

const port = parentPort;
const start = workerData as PrepareThreadStart | null;
if (port && start?.mark === PREPARE_THREAD_MARK) {
  const controller = new AbortController();
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'cancel') controller.abort();
  });
  const post = (message: PrepareThreadMessage): void => port.postMessage(message);
  prepareCheckpoint({
    source: start.source,
    ...(start.sources ? { sources: start.sources } : {}),
    vae: start.vae,
    name: start.name,
    modelsDir: start.modelsDir,
    signal: controller.signal,
    onProgress: (progress) => post({ type: 'progress', progress }),
  }).then(
    (result) => post({ type: 'done', result }),
    (e: unknown) => post(e instanceof PrepareCancelledError ? { type: 'cancelled' } : { type: 'failed', ...describePrepareFailure(e, start.modelsDir) }),
  );
}
