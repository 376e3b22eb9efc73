import { describe, expect, it, vi } from 'vitest';
import { closeBeforeQuit } from '../../../src-main/app/lifecycle.ts';
import { MockApp } from '../../helpers/electron-mock.ts';

describe('closeBeforeQuit', () => {
  it('holds the quit until the engine has closed, then quits once', async () => {
    const app = new MockApp();
    let finish!: () => void;
    const close = vi.fn(() => new Promise<void>((r) => (finish = r)));
    closeBeforeQuit(app, close);
    expect(app.willQuit()).toBe(true);
    expect(app.willQuit()).toBe(true); // a second quit request while closing waits too
    expect(close).toHaveBeenCalledTimes(1);
    expect(app.quitCalls).toBe(0);
    finish();
    await vi.waitFor(() => expect(app.quitCalls).toBe(1));
    expect(app.willQuit()).toBe(false); // the re-issued quit goes through
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('still quits when closing fails, and logs why', async () => {
    const app = new MockApp();
    const log = vi.fn();
    const failure = new Error('database is locked');
    closeBeforeQuit(app, () => Promise.reject(failure), { log });
    app.willQuit();
    await vi.waitFor(() => expect(app.quitCalls).toBe(1));
    expect(log).toHaveBeenCalledWith('closing the engine failed', failure);
  });

  it('exits anyway when closing hangs past the timeout', async () => {
    vi.useFakeTimers();
    try {
      const app = new MockApp();
      closeBeforeQuit(app, () => new Promise<void>(() => {}), { timeoutMs: 1000 });
      app.willQuit();
      await vi.advanceTimersByTimeAsync(999);
      expect(app.exitCodes).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(app.exitCodes).toEqual([1]);
      expect(app.willQuit()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
