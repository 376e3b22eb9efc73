/**
 * Quitting waits for the engine: running jobs are checkpointed by the queue, workers are told to
 * shut down, the database is closed and the runner lock released, so the next start (or the CLI)
 * finds a clean data folder. A stuck close cannot keep the app alive forever.
 */
import type { App, Event as ElectronEvent } from 'electron';

/** What this file touches on electron's `app` (the listener's return value is ignored). */
export interface QuittableApp {
  on(event: 'will-quit', listener: (event: ElectronEvent) => void): unknown;
  quit: App['quit'];
  exit: App['exit'];
}

export interface CloseBeforeQuitOptions {
  readonly timeoutMs?: number;
  readonly log?: (message: string, detail?: unknown) => void;
}

export function closeBeforeQuit(app: QuittableApp, close: () => Promise<void>, options: CloseBeforeQuitOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const log = options.log ?? (() => {});
  let state: 'open' | 'closing' | 'closed' = 'open';

  app.on('will-quit', (event) => {
    if (state === 'closed') return;
    event.preventDefault();
    if (state === 'closing') return;
    state = 'closing';
    const timer = setTimeout(() => {
      log(`the engine did not close within ${timeoutMs} ms; quitting anyway`);
      state = 'closed';
      app.exit(1);
    }, timeoutMs);
    close()
      .catch((e: unknown) => log('closing the engine failed', e))
      .finally(() => {
        clearTimeout(timer);
        if (state === 'closed') return;
        state = 'closed';
        app.quit();
      });
  });
}
