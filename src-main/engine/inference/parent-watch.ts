/**
 * A thread inside each inference worker that ends the worker as soon as the engine process that
 * started it is gone. The worker's own JS thread cannot notice in time: onnxruntime's session.run
 * blocks it for a whole denoising step (seconds on a large model), so neither the IPC channel's
 * `disconnect` event nor a timer on that thread fires until the step ends — and an orphaned worker
 * holding the GPU delays the next engine's start. This thread's loop is never blocked; it checks
 * the parent every 100 ms and kills its own process (the driver releases the GPU with it).
 */
import { isMainThread, workerData } from 'node:worker_threads';

export const PARENT_WATCH_MARK = 'ourvidz-parent-watch';
const POLL_MS = 100;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const data = workerData as { mark?: unknown; parentPid?: unknown } | null;
if (!isMainThread && data?.mark === PARENT_WATCH_MARK && typeof data.parentPid === 'number') {
  const parentPid = data.parentPid;
  setInterval(() => {
    // Re-parented (the parent died and init or a subreaper adopted us), or the parent is gone.
    if (process.ppid !== parentPid || !isAlive(parentPid)) process.kill(process.pid, 'SIGKILL');
  }, POLL_MS);
}
