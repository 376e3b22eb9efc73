/**
 * Sync gives way to generation (src-main/engine/sync/engine.ts): while a job runs, background work
 * waits — at most maxYieldMs in a row, then it gets a window to run in before it waits again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SyncEngine } from '../../../src-main/engine/sync/engine.ts';
import type { SyncTransport } from '../../../src-main/engine/sync/transport.ts';
import { makeWorld, type World } from '../../fixtures/library/world.ts';

const offline: SyncTransport = {
  user: 'someone@example.com',
  push: () => Promise.reject(new Error('not used')),
  pull: () => Promise.reject(new Error('not used')),
};

describe('giving way to jobs', () => {
  let w: World | null = null;
  afterEach(async () => {
    await w?.close();
    w = null;
  });

  it('waits while a job runs, then runs for a window after the longest wait, then waits again', async () => {
    w = makeWorld();
    let busy = false;
    const engine = new SyncEngine({ db: w.db, transport: offline, busy: () => busy, maxYieldMs: 100, yieldWindowMs: 300 });
    const mustYield = () => (engine as unknown as { mustYield(): boolean }).mustYield();
    expect(mustYield()).toBe(false); // no job
    busy = true;
    expect(mustYield()).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    // The longest wait is over: every check in the window lets sync go on (not just the first).
    expect([mustYield(), mustYield(), mustYield()]).toEqual([false, false, false]);
    await new Promise((r) => setTimeout(r, 320));
    expect(mustYield()).toBe(true); // the window closed: waiting again
    busy = false;
    expect(mustYield()).toBe(false);
  });
});
