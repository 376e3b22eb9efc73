import { describe, expect, it, vi } from 'vitest';
import { StudioCallError, buildStudioApi, toCrossWorldError } from '../../../src-preload/bridge.ts';
import { CHANNELS, EVENT_NAMES } from '../../../src-preload/contract/index.ts';
import type { JobView, StudioApi } from '../../../src-preload/contract/index.ts';
import { MockIpcRenderer, MockIpcRendererEvent } from '../../helpers/electron-mock.ts';
import { PICK_FFMPEG_CHANNEL, PICK_MODEL_FILE_CHANNEL } from '../../../src-preload/app-verbs.ts';
import type { StudioAppVerbs } from '../../../src-preload/app-verbs.ts';
import type { MockContextBridge } from '../../helpers/electron-mock.ts';

// The real preload (src-preload/index.ts) runs against these instead of electron.
const electron = await vi.hoisted(async () => {
  const mock = await import('../../helpers/electron-mock.ts');
  return { contextBridge: new mock.MockContextBridge(), ipcRenderer: new mock.MockIpcRenderer(), webUtils: new mock.MockWebUtils() };
});
vi.mock('electron', () => electron);

/** The verbs the contract promises, spelled out independently of the bridge's own helpers. */
function expectedVerbs(): string[] {
  const calls = CHANNELS.map((c) => c.replace('.', ' '));
  const events = EVENT_NAMES.map((e) => {
    const [ns, verb] = e.split('.') as [string, string];
    return `${ns} on${verb[0]!.toUpperCase()}${verb.slice(1)}`;
  });
  return [...calls, ...events].sort();
}

function exposedVerbs(api: unknown): string[] {
  const out: string[] = [];
  for (const [ns, verbs] of Object.entries(api as Record<string, Record<string, unknown>>)) {
    for (const [verb, fn] of Object.entries(verbs)) {
      expect(typeof fn, `studio.${ns}.${verb}`).toBe('function');
      out.push(`${ns} ${verb}`);
    }
  }
  return out.sort();
}

/** Walks everything reachable from the API (own keys, prototypes, function properties). */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
    seen.add(v);
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d && 'value' in d) stack.push(d.value);
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== Function.prototype) stack.push(proto);
  }
  return [...seen];
}

describe('buildStudioApi', () => {
  it("exposes exactly the contract's verbs: one per channel, one subscription per event", () => {
    const api = buildStudioApi(new MockIpcRenderer());
    expect(exposedVerbs(api)).toEqual(expectedVerbs());
    expect(typeof api.jobs.enqueue).toBe('function');
    expect(typeof api.jobs.onChanged).toBe('function');
    expect(typeof api.queue.onChanged).toBe('function');
  });

  it('never exposes ipcRenderer, its methods, or a generic send/invoke', () => {
    const ipc = new MockIpcRenderer();
    const api = buildStudioApi(ipc);
    const everything = reachable(api);
    expect(everything).not.toContain(ipc);
    for (const method of [ipc.invoke, ipc.on, ipc.removeListener, ipc.emit]) expect(everything).not.toContain(method);
    const keys = everything.flatMap((v) => Reflect.ownKeys(v as object)).map(String);
    for (const name of ['ipcRenderer', 'invoke', 'send', 'sendSync', 'postMessage', 'on', 'removeListener']) {
      expect(keys).not.toContain(name);
    }
  });

  it('is frozen, so page code cannot swap a verb', () => {
    const api = buildStudioApi(new MockIpcRenderer());
    expect(Object.isFrozen(api)).toBe(true);
    for (const ns of Object.values(api)) expect(Object.isFrozen(ns)).toBe(true);
  });

  it('sends a call on its channel and resolves with the envelope value', async () => {
    const ipc = new MockIpcRenderer();
    const job = { id: 'job-1' } as JobView;
    ipc.answer = () => ({ ok: true, value: job });
    const api = buildStudioApi(ipc);
    await expect(api.jobs.get({ id: 'job-1' })).resolves.toBe(job);
    expect(ipc.invoked).toEqual([{ channel: 'jobs.get', args: [{ id: 'job-1' }] }]);
  });

  it('rejects with an Error carrying the WireError code and field', async () => {
    const ipc = new MockIpcRenderer();
    ipc.answer = () => ({ ok: false, error: { code: 'invalid_params', message: 'steps must be from 1 to 150 (got 999)', field: 'request.steps' } });
    const api = buildStudioApi(ipc);
    const error = await api.jobs.enqueue({ request: { type: 'sdxl_image_fast', prompt: 'x', steps: 999 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioCallError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'invalid_params', field: 'request.steps', message: 'steps must be from 1 to 150 (got 999)', channel: 'jobs.enqueue' });
  });

  it('reports an answer that is not an envelope instead of passing it through', async () => {
    const ipc = new MockIpcRenderer();
    ipc.answer = () => ({ id: 'looks like a job' });
    await expect(buildStudioApi(ipc).jobs.list()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('reports a failed invoke (no handler yet, main gone) as ipc_failed', async () => {
    const ipc = new MockIpcRenderer();
    ipc.answer = () => {
      throw new Error("No handler registered for 'queue.pause'");
    };
    await expect(buildStudioApi(ipc).queue.pause()).rejects.toMatchObject({
      code: 'ipc_failed',
      message: expect.stringContaining("No handler registered for 'queue.pause'"),
    });
  });

  it('gives listeners the payload only, never the IPC event, until unsubscribed', () => {
    const ipc = new MockIpcRenderer();
    const api = buildStudioApi(ipc);
    const changed = vi.fn();
    const progress = vi.fn();
    const off = api.jobs.onChanged(changed);
    api.jobs.onProgress(progress);
    ipc.sendFromMain('jobs.changed', { id: 'a' });
    expect(changed).toHaveBeenCalledTimes(1);
    expect(changed.mock.calls[0]).toEqual([{ id: 'a' }]);
    expect(changed.mock.calls.flat().some((arg) => arg instanceof MockIpcRendererEvent)).toBe(false);
    expect(progress).not.toHaveBeenCalled();
    off();
    off(); // idempotent
    ipc.sendFromMain('jobs.changed', { id: 'b' });
    expect(changed).toHaveBeenCalledTimes(1);
    expect(ipc.listenerCount('jobs.changed')).toBe(0);
    expect(ipc.listenerCount('jobs.progress')).toBe(1);
  });

  it('subscribes the same function twice as two subscriptions', () => {
    const ipc = new MockIpcRenderer();
    const api = buildStudioApi(ipc);
    const listener = vi.fn();
    const offFirst = api.gpu.onChanged(listener);
    api.gpu.onChanged(listener);
    offFirst();
    ipc.sendFromMain('gpu.changed', { budgetMb: 1 });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('refuses a non-function listener', () => {
    const api = buildStudioApi(new MockIpcRenderer());
    expect(() => api.queue.onChanged('not a function' as unknown as () => void)).toThrow(TypeError);
  });

  it('can reject with a plain object for the trip across the contextBridge', async () => {
    const ipc = new MockIpcRenderer();
    ipc.answer = () => ({ ok: false, error: { code: 'not_found', message: 'no job with id x', field: 'id' } });
    const error = await buildStudioApi(ipc, { rejectWith: toCrossWorldError }).jobs.get({ id: 'x' }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(Error);
    // Exactly the fields structured cloning keeps; the renderer's toWireError reads this shape.
    expect(error).toEqual({ name: 'StudioError', code: 'not_found', message: 'no job with id x', field: 'id', channel: 'jobs.get' });
  });
});

describe('src-preload/index.ts', () => {
  it('exposes the bridge as window.studio and the app-only verbs as window.studioApp, and nothing else', async () => {
    await import('../../../src-preload/index.ts');
    const bridge: MockContextBridge = electron.contextBridge;
    expect(Object.keys(bridge.world)).toEqual(['studio', 'studioApp']);
    expect(exposedVerbs(bridge.world.studio)).toEqual(expectedVerbs());
    expect(Object.keys(bridge.world.studioApp as object)).toEqual(['pickFolder', 'pickModelFile', 'pickFfmpeg', 'pathForFile']);
    expect(reachable(bridge.world.studio)).not.toContain(electron.ipcRenderer);
    for (const leak of [electron.ipcRenderer, electron.webUtils]) expect(reachable(bridge.world.studioApp)).not.toContain(leak);
  });

  it('answers the folder chooser with the chosen path, or null for anything else', async () => {
    await import('../../../src-preload/index.ts');
    const app = electron.contextBridge.world.studioApp as StudioAppVerbs;
    electron.ipcRenderer.answer = () => '/mnt/models';
    expect(await app.pickFolder('Add a model folder')).toBe('/mnt/models');
    electron.ipcRenderer.answer = () => ({ ok: true, value: '/etc' });
    expect(await app.pickFolder()).toBeNull();
  });

  it('asks main for a model file on its own channel, with a bounded title, and passes on only a path', async () => {
    await import('../../../src-preload/index.ts');
    const app = electron.contextBridge.world.studioApp as StudioAppVerbs;
    electron.ipcRenderer.invoked.length = 0;
    electron.ipcRenderer.answer = () => '/mnt/sd/juggernautXL_v9.safetensors';
    expect(await app.pickModelFile('Choose a checkpoint')).toBe('/mnt/sd/juggernautXL_v9.safetensors');
    expect(await app.pickModelFile('x'.repeat(5000))).toBe('/mnt/sd/juggernautXL_v9.safetensors');
    expect(electron.ipcRenderer.invoked).toEqual([
      { channel: PICK_MODEL_FILE_CHANNEL, args: ['Choose a checkpoint'] },
      { channel: PICK_MODEL_FILE_CHANNEL, args: ['x'.repeat(200)] },
    ]);
    electron.ipcRenderer.answer = () => null; // cancelled
    expect(await app.pickModelFile()).toBeNull();
    electron.ipcRenderer.answer = () => ['/a', '/b'];
    expect(await app.pickModelFile()).toBeNull();
  });

  it('asks main to choose ffmpeg with nothing from the page, and passes on only the outcome', async () => {
    await import('../../../src-preload/index.ts');
    const app = electron.contextBridge.world.studioApp as StudioAppVerbs;
    electron.ipcRenderer.invoked.length = 0;
    electron.ipcRenderer.answer = () => ({ outcome: 'set', path: '/opt/ffmpeg/bin/ffmpeg', extra: 'dropped' });
    expect(await (app.pickFfmpeg as (...args: unknown[]) => Promise<unknown>)('/bin/sh')).toEqual({ outcome: 'set', path: '/opt/ffmpeg/bin/ffmpeg' });
    expect(electron.ipcRenderer.invoked).toEqual([{ channel: PICK_FFMPEG_CHANNEL, args: [] }]);
    electron.ipcRenderer.answer = () => ({ outcome: 'refused', message: '/bin/sh is not an ffmpeg program.' });
    expect(await app.pickFfmpeg()).toEqual({ outcome: 'refused', message: '/bin/sh is not an ffmpeg program.' });
    for (const odd of [null, '/usr/bin/ffmpeg', { outcome: 'set' }, { outcome: 'refused', message: 3 }]) {
      electron.ipcRenderer.answer = () => odd;
      expect(await app.pickFfmpeg()).toEqual({ outcome: 'cancelled' });
    }
  });

  it("turns a dropped file into its path on disk, and anything else into null (never Electron's exception)", async () => {
    await import('../../../src-preload/index.ts');
    const app = electron.contextBridge.world.studioApp as StudioAppVerbs;
    const dropped = electron.webUtils.droppedFile('/home/ana/Downloads/ponyDiffusionV6XL.safetensors');
    expect(app.pathForFile(dropped)).toBe('/home/ana/Downloads/ponyDiffusionV6XL.safetensors');
    // A File made by page script has no path ('' from Electron), and a non-File makes Electron throw.
    expect(app.pathForFile(new File(['x'], 'made-in-js.safetensors'))).toBeNull();
    expect(app.pathForFile({ name: 'fake.safetensors', path: '/etc/passwd' })).toBeNull();
    expect(app.pathForFile(null)).toBeNull();
  });

  it('rejects across the bridge with the WireError fields intact', async () => {
    await import('../../../src-preload/index.ts');
    const studio = electron.contextBridge.world.studio as StudioApi;
    electron.ipcRenderer.answer = () => ({ ok: false, error: { code: 'not_found', message: 'no job with id x', field: 'id' } });
    await expect(studio.jobs.cancel({ id: 'x' })).rejects.toEqual(expect.objectContaining({ code: 'not_found', field: 'id' }));
  });
});
