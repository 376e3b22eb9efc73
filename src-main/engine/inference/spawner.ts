/**
 * How the supervisor starts a worker process, kept behind a four-method interface so the same
 * supervisor runs under plain Node (child_process.fork, here) and inside Electron (a
 * utilityProcess spawner in src-main/app, which the engine must not import).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * One running worker process as the supervisor sees it.
 *
 * Contract for implementations:
 * - `send` delivers a structured-clonable message (Uint8Array must arrive as bytes). Sending to a
 *   process that has already exited is a silent no-op; the exit callback reports the exit.
 * - `onMessage` callbacks receive each message's payload (for utilityProcess: the `message`
 *   event's data, not an event object).
 * - `onExit` fires exactly once, with the exit code, or null and the signal name when the process
 *   was killed by a signal. A process that failed to start also reports through `onExit`.
 * - `kill` ends the process forcefully (SIGKILL where signals exist); the graceful path is the
 *   protocol's `shutdown` message.
 */
export interface WorkerChannel {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(callback: (message: unknown) => void): void;
  onExit(callback: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export interface SpawnOptions {
  /** Variables added to the parent's environment (the worker's start options travel here). */
  readonly env: Readonly<Record<string, string>>;
  readonly args: readonly string[];
}

/** Starts `entry` (a script path) as a worker process. */
export type WorkerSpawner = (entry: string, options: SpawnOptions) => WorkerChannel;

/**
 * The worker entry for plain Node 24, which runs the TypeScript file directly (type stripping).
 * The Electron build passes its bundled entry (e.g. `out/main/worker.js`) to the supervisor
 * instead, together with its utilityProcess spawner.
 */
export function defaultWorkerEntry(): string {
  return fileURLToPath(new URL('./worker-main.ts', import.meta.url));
}

/** child_process.fork with structured-clone messaging, stdout/stderr shared with the parent. */
export const forkSpawner: WorkerSpawner = (entry, options) => {
  const child = fork(entry, [...options.args], {
    env: { ...process.env, ...options.env },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Never inherit the parent's loader flags (a test runner's, a debugger's port).
    execArgv: [],
  });
  const exitCallbacks: ((code: number | null, signal: string | null) => void)[] = [];
  let exited = false;
  const reportExit = (code: number | null, signal: string | null): void => {
    if (exited) return;
    exited = true;
    for (const cb of exitCallbacks) cb(code, signal);
  };
  child.on('exit', (code, signal) => reportExit(code, signal));
  // 'error' covers a failed spawn (no 'exit' follows then) and a failed send on a closing channel.
  child.on('error', (error) => {
    if (child.pid === undefined) {
      process.nextTick(() => reportExit(null, null));
    } else if (!exited && child.exitCode === null && child.signalCode === null && !child.connected) {
      // The channel broke while the process lives on: nothing can reach it any more.
      child.kill('SIGKILL');
    }
    void error;
  });
  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (!child.connected) return;
      child.send(message as object, (error) => {
        // A send that races the child's exit fails here; the exit callback reports it.
        void error;
      });
    },
    onMessage(callback) {
      child.on('message', (message) => callback(message));
    },
    onExit(callback) {
      exitCallbacks.push(callback);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
};
