/** What the CLI touches of the outside world, so commands can be driven by tests. */
import type { Engine } from '../engine/engine.ts';

export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Io {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: NodeJS.ProcessEnv;
  now(): number;
  /** Subscribes to Ctrl-C; returns the unsubscribe. */
  onInterrupt(listener: () => void): () => void;
  /** Resolves on SIGINT or SIGTERM (for long-running commands such as serve). */
  untilStopped(): Promise<string>;
}

/** The engine as the CLI uses it. */
export type CliEngine = Pick<Engine, 'role' | 'dataDir' | 'handlers' | 'on' | 'waitFor' | 'close'> & Partial<Pick<Engine, 'db' | 'layout' | 'library' | 'settings'>>;

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: Date.now,
    onInterrupt(listener) {
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
    untilStopped() {
      return new Promise((resolve) => {
        const stop = (signal: string): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    },
  };
}
