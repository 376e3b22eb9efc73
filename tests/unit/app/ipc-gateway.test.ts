import { describe, expect, it, vi } from 'vitest';
import { forwardEvents, isTrustedSender, registerIpcGateway } from '../../../src-main/app/ipc-gateway.ts';
import type { Subscribe } from '../../../src-main/app/ipc-gateway.ts';
import { APP_URL } from '../../../src-main/app/origin.ts';
import { StudioError } from '../../../src-main/engine/errors.ts';
import { CHANNELS, EVENT_NAMES } from '../../../src-preload/contract/index.ts';
import type { Channel, EventName, Handlers } from '../../../src-preload/contract/index.ts';
import { MockEventTarget, MockIpcMain, childFrame, mainFrame } from '../../helpers/electron-mock.ts';

/** Handlers that record what they were called with and answer `{ from: channel }`. */
function recordingHandlers() {
  const calls: { channel: Channel; params: unknown }[] = [];
  const handlers = Object.fromEntries(
    CHANNELS.map((channel) => [
      channel,
      vi.fn(async (params: unknown) => {
        calls.push({ channel, params });
        return { from: channel };
      }),
    ]),
  ) as unknown as Handlers;
  return { calls, handlers };
}

function setup(appUrl = APP_URL) {
  const ipcMain = new MockIpcMain();
  const { calls, handlers } = recordingHandlers();
  const log = vi.fn();
  const dispose = registerIpcGateway({ ipcMain, handlers, appUrl, log });
  return { ipcMain, calls, handlers, log, dispose };
}

const appFrame = mainFrame('studio://app/index.html');

describe('registerIpcGateway', () => {
  it('registers every contract channel exactly once, and removes them all on dispose', () => {
    const { ipcMain, dispose } = setup();
    expect([...ipcMain.handled].sort()).toEqual([...CHANNELS].sort());
    expect(new Set(ipcMain.handled).size).toBe(ipcMain.handled.length);
    dispose();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('passes a valid call to the handler with the parsed params and returns its result', async () => {
    const { ipcMain, calls } = setup();
    const answer = await ipcMain.invoke('jobs.get', appFrame, { id: 'job-1' });
    expect(answer).toEqual({ ok: true, value: { from: 'jobs.get' } });
    expect(calls).toEqual([{ channel: 'jobs.get', params: { id: 'job-1' } }]);
  });

  it('hands the handler what the schema produced, not what the page sent', async () => {
    const { ipcMain, calls } = setup();
    await ipcMain.invoke('jobs.enqueue', appFrame, { request: { type: 'sdxl_image_fast', prompt: '  a red fox  ' } });
    // The contract's schema trims the prompt; the handler must see the parsed value.
    expect(calls[0]?.params).toEqual({ request: { type: 'sdxl_image_fast', prompt: 'a red fox' } });
  });

  it('accepts a call without params where the channel takes none', async () => {
    const { ipcMain, calls } = setup();
    expect(await ipcMain.invoke('queue.state', appFrame)).toEqual({ ok: true, value: { from: 'queue.state' } });
    expect(calls).toHaveLength(1);
  });

  describe('refuses senders other than the app main frame', () => {
    const refused: [string, ReturnType<typeof mainFrame> | null][] = [
      ['a destroyed frame', null],
      ['another origin', mainFrame('https://evil.example/index.html')],
      ['a file: page', mainFrame('file:///tmp/index.html')],
      ['another host on the app scheme', mainFrame('studio://other/index.html')],
      ['an iframe inside the app', childFrame('studio://app/index.html', appFrame)],
      ['an unparsable url', mainFrame('not a url')],
    ];
    it.each(refused)('%s', async (_label, frame) => {
      const { ipcMain, calls, log } = setup();
      const answer = await ipcMain.invoke('jobs.cancel', frame, { id: 'job-1' });
      expect(answer).toMatchObject({ ok: false, error: { code: 'untrusted_sender' } });
      expect(calls).toEqual([]);
      expect(log).toHaveBeenCalledWith(expect.stringContaining('refused jobs.cancel'));
    });
  });

  it('trusts the dev server origin (any path) when the app is served from it, and nothing else', async () => {
    const { ipcMain, calls } = setup('http://localhost:5173/');
    expect(await ipcMain.invoke('app.info', mainFrame('http://localhost:5173/index.html#/queue'))).toMatchObject({ ok: true });
    expect(await ipcMain.invoke('app.info', mainFrame('http://localhost:5174/'))).toMatchObject({ ok: false });
    expect(await ipcMain.invoke('app.info', mainFrame('https://localhost:5173/'))).toMatchObject({ ok: false });
    expect(await ipcMain.invoke('app.info', mainFrame('studio://app/index.html'))).toMatchObject({ ok: false });
    expect(calls).toHaveLength(1);
  });

  describe('rejects malformed params with a WireError naming the field', () => {
    const cases: [string, Channel, unknown[], string][] = [
      ['an empty id', 'jobs.get', [{ id: '' }], 'id'],
      ['a missing id', 'jobs.cancel', [{}], 'id'],
      ['a nested out-of-range value', 'jobs.enqueue', [{ request: { type: 'sdxl_image_fast', prompt: 'x', steps: 999 } }], 'request.steps'],
      ['an unknown job type', 'jobs.enqueue', [{ request: { type: 'sdxl_turbo', prompt: 'x' } }], 'request.type'],
      ['an unexpected key', 'jobs.get', [{ id: 'a', path: '/etc/passwd' }], 'path'],
      ['a string instead of an object', 'jobs.retry', ['job-1'], 'params'],
      ['a second argument', 'jobs.get', [{ id: 'a' }, { extra: true }], 'params'],
    ];
    it.each(cases)('%s', async (_label, channel, args, field) => {
      const { ipcMain, calls } = setup();
      const answer = (await ipcMain.invoke(channel, appFrame, ...args)) as { ok: boolean; error: { code: string; field: string; message: string } };
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe('invalid_params');
      expect(answer.error.field).toBe(field);
      expect(answer.error.message.length).toBeGreaterThan(0);
      expect(calls).toEqual([]);
    });

    it('says what the allowed range is', async () => {
      const { ipcMain } = setup();
      const answer = (await ipcMain.invoke('jobs.enqueue', appFrame, { request: { type: 'sdxl_image_fast', prompt: 'x', steps: 999 } })) as {
        error: { message: string };
      };
      expect(answer.error.message).toMatch(/steps must be from 1 to 150/);
    });
  });

  it("returns a handler's StudioError as its WireError, code and field intact", async () => {
    const { ipcMain, handlers, log } = setup();
    vi.mocked(handlers['jobs.retry']).mockRejectedValueOnce(new StudioError('not_retryable', 'Only failed or cancelled jobs can be retried.', { field: 'id' }));
    expect(await ipcMain.invoke('jobs.retry', appFrame, { id: 'j' })).toEqual({
      ok: false,
      error: { code: 'not_retryable', message: 'Only failed or cancelled jobs can be retried.', field: 'id' },
    });
    expect(log).not.toHaveBeenCalled();
  });

  it('turns an unexpected exception into an internal WireError and logs it', async () => {
    const { ipcMain, handlers, log } = setup();
    const boom = new TypeError('cannot read properties of undefined');
    vi.mocked(handlers['models.list']).mockRejectedValueOnce(boom);
    expect(await ipcMain.invoke('models.list', appFrame)).toEqual({
      ok: false,
      error: { code: 'internal', message: 'cannot read properties of undefined' },
    });
    expect(log).toHaveBeenCalledWith('models.list failed', boom);
  });
});

describe('isTrustedSender', () => {
  it('needs a main frame on the app origin', () => {
    expect(isTrustedSender(mainFrame('studio://app/index.html'), APP_URL)).toBe(true);
    expect(isTrustedSender(mainFrame('studio://app/'), APP_URL)).toBe(true);
    expect(isTrustedSender(mainFrame('studio://app.evil/index.html'), APP_URL)).toBe(false);
    expect(isTrustedSender(undefined, APP_URL)).toBe(false);
  });
});

describe('forwardEvents', () => {
  function fakeEngine() {
    const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
    const subscribe = ((event: EventName, listener: (payload: unknown) => void) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    }) as Subscribe;
    const emit = (event: EventName, payload: unknown) => {
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
    return { subscribe, emit, count };
  }

  it('sends every contract event to the window under its own name', () => {
    const engine = fakeEngine();
    const target = new MockEventTarget();
    forwardEvents(engine.subscribe, () => target);
    for (const event of EVENT_NAMES) engine.emit(event, { event });
    expect(target.sent).toEqual(EVENT_NAMES.map((event) => ({ channel: event, args: [{ event }] })));
  });

  it('skips a destroyed or missing window, and stops when unsubscribed', () => {
    const engine = fakeEngine();
    const target = new MockEventTarget();
    let current: MockEventTarget | null = null;
    const stop = forwardEvents(engine.subscribe, () => current);
    engine.emit('jobs.changed', 1);
    current = target;
    target.destroyed = true;
    engine.emit('jobs.changed', 2);
    target.destroyed = false;
    engine.emit('jobs.changed', 3);
    expect(target.sent).toEqual([{ channel: 'jobs.changed', args: [3] }]);
    expect(engine.count()).toBe(EVENT_NAMES.length);
    stop();
    expect(engine.count()).toBe(0);
  });
});
