/**
 * main.ts is wiring only; this checks the wiring against the typed electron mock: what is set up
 * before `ready`, what the engine is opened with, that the window, gateway and events are connected,
 * and that quitting closes the engine first.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineOptions } from '../../../src-main/engine/engine.ts';
import { CHANNELS } from '../../../src-preload/contract/index.ts';
import { PICK_FFMPEG_CHANNEL, PICK_FOLDER_CHANNEL, PICK_MODEL_FILE_CHANNEL } from '../../../src-preload/app-verbs.ts';
import type { EventName } from '../../../src-preload/contract/index.ts';
import type { MockApp, MockBrowserWindow, MockIpcMain } from '../../helpers/electron-mock.ts';

const mainDir = path.resolve(import.meta.dirname, '../../../src-main/app');

const h = await vi.hoisted(async () => {
  const m = await import('../../helpers/electron-mock.ts');
  type Listener = (payload: unknown) => void;
  function makeWorld() {
    const listeners = new Map<string, Set<Listener>>();
    const engine = {
      handlers: Object.fromEntries(['app.info'].map((c) => [c, async () => ({ version: 'test' })])),
      on: (event: string, listener: Listener) => {
        const set = listeners.get(event) ?? new Set<Listener>();
        listeners.set(event, set);
        set.add(listener);
        return () => set.delete(listener);
      },
      emit: (event: string, payload: unknown) => {
        for (const l of listeners.get(event) ?? []) l(payload);
      },
      /** What main stored in the engine's settings (Choose ffmpeg… writes here, not through a channel). */
      settingsUpdates: [] as unknown[],
      settings: {
        update: async (patch: unknown) => {
          h.world.engine.settingsUpdates.push(patch);
          return {};
        },
      },
      close: async () => {},
    };
    return {
      app: new m.MockApp(),
      ipcMain: new m.MockIpcMain(),
      session: new m.MockSession(),
      shell: new m.MockShell(),
      utilityProcess: new m.MockUtilityProcessModule(),
      protocol: { registerSchemesAsPrivileged: (_schemes: unknown) => {}, handle: (_scheme: string, _handler: unknown) => {} },
      dialog: {
        showErrorBox: (_title: string, _content: string) => {},
        showOpenDialog: async (..._args: unknown[]) => ({ canceled: false, filePaths: ['/opt/ffmpeg/bin/ffmpeg'] }),
      },
      engine,
      openEngine: async (_options: unknown) => engine as unknown,
      storeOptions: [] as unknown[],
    };
  }
  return { world: makeWorld(), makeWorld, MockBrowserWindow: m.MockBrowserWindow };
});

vi.mock('electron', () => ({
  get app() {
    return h.world.app;
  },
  get ipcMain() {
    return h.world.ipcMain;
  },
  get session() {
    return { defaultSession: h.world.session };
  },
  get shell() {
    return h.world.shell;
  },
  get utilityProcess() {
    return h.world.utilityProcess;
  },
  get protocol() {
    return h.world.protocol;
  },
  get dialog() {
    return h.world.dialog;
  },
  BrowserWindow: h.MockBrowserWindow,
  safeStorage: {},
}));

vi.mock('electron-store', () => ({
  default: class {
    constructor(options: unknown) {
      h.world.storeOptions.push(options);
    }
    get(): unknown {
      return undefined;
    }
    set(): void {}
    delete(): void {}
  },
}));

vi.mock('../../../src-main/engine/engine.ts', () => ({
  Engine: { open: (options: unknown) => h.world.openEngine(options) },
  sourcePipelineModules: () => ({ sdxl: '/src/pipelines/sdxl/index.ts' }),
}));

let dataDir: string;

async function startMain(env: Record<string, string> = {}) {
  h.world = h.makeWorld();
  h.MockBrowserWindow.instances.length = 0;
  dataDir = mkdtempSync(path.join(tmpdir(), 'studio-main-'));
  h.world.app.paths.userData = dataDir;
  const open = vi.spyOn(h.world, 'openEngine');
  const registerSchemes = vi.spyOn(h.world.protocol, 'registerSchemesAsPrivileged');
  const handle = vi.spyOn(h.world.protocol, 'handle');
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.resetModules();
  await import('../../../src-main/app/main.ts');
  return { open, registerSchemes, handle, app: h.world.app as MockApp, ipcMain: h.world.ipcMain as MockIpcMain };
}

async function ready(app: MockApp): Promise<MockBrowserWindow> {
  app.becomeReady();
  await vi.waitFor(() => expect(h.MockBrowserWindow.instances).toHaveLength(1));
  return h.MockBrowserWindow.instances[0]!;
}

beforeEach(() => {
  vi.unstubAllEnvs();
  vi.stubEnv('STUDIO_DATA_DIR', '');
  vi.stubEnv('ELECTRON_RENDERER_URL', '');
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('main.ts', () => {
  it('registers the privileged schemes before ready, and nothing else', async () => {
    const { registerSchemes, open, handle } = await startMain();
    expect(registerSchemes).toHaveBeenCalledTimes(1);
    expect(registerSchemes.mock.calls[0]?.[0]).toEqual([
      expect.objectContaining({ scheme: 'studio' }),
      expect.objectContaining({ scheme: 'studio-media' }),
    ]);
    expect(open).not.toHaveBeenCalled();
    expect(handle).not.toHaveBeenCalled();
  });

  it('opens the engine for Electron on the user-data folder with the utilityProcess spawner and bundled worker', async () => {
    const { app, open } = await startMain();
    await ready(app);
    const options = open.mock.calls[0]?.[0] as EngineOptions;
    expect(options.frontDoor).toBe('electron');
    expect(options.dataDir).toBe(dataDir);
    // The studio's settings are the engine's own (settings.json), not passed in by the app.
    expect(options.modelDirs).toBeUndefined();
    expect(options.vramBudgetMb).toBeUndefined();
    expect(options.providers).toBeUndefined();
    expect(options.workerEntry).toBe(path.join(mainDir, 'worker.js'));
    expect(options.pipelineModules).toEqual({ sdxl: path.join(mainDir, 'pipelines', 'sdxl.js') });
    expect(typeof options.workerSpawner).toBe('function');
    expect(h.world.storeOptions).toEqual([expect.objectContaining({ name: 'app-settings', cwd: dataDir, accessPropertiesByDotNotation: false })]);
  });

  it('honours STUDIO_DATA_DIR like the CLI does', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'studio-data-'));
    try {
      const { app, open } = await startMain({ STUDIO_DATA_DIR: other });
      await ready(app);
      expect((open.mock.calls[0]?.[0] as EngineOptions).dataDir).toBe(other);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('serves both schemes, registers every channel and opens the window on the app URL', async () => {
    const { app, handle, ipcMain } = await startMain();
    const window = await ready(app);
    expect(handle.mock.calls.map((c) => c[0])).toEqual(['studio', 'studio-media']);
    expect([...ipcMain.handlers.keys()].sort()).toEqual([...CHANNELS, PICK_FOLDER_CHANNEL, PICK_MODEL_FILE_CHANNEL, PICK_FFMPEG_CHANNEL].sort());
    expect(window.loaded).toEqual(['studio://app/index.html']);
    expect(window.options.webPreferences?.preload).toBe(path.join(mainDir, '../preload/index.cjs'));
    expect(h.world.session.headersListener).not.toBeNull();
  });

  it("stores the ffmpeg chosen in the window's native dialog in the engine's settings, from main", async () => {
    const { app, ipcMain } = await startMain();
    const window = await ready(app);
    const answer = await ipcMain.invoke(PICK_FFMPEG_CHANNEL, { url: window.loaded[0]!, parent: null });
    expect(answer).toEqual({ outcome: 'set', path: '/opt/ffmpeg/bin/ffmpeg' });
    expect(h.world.engine.settingsUpdates).toEqual([{ ffmpegPath: '/opt/ffmpeg/bin/ffmpeg' }]);
  });

  it('loads the dev server in development', async () => {
    const { app } = await startMain({ ELECTRON_RENDERER_URL: 'http://localhost:5173/' });
    const window = await ready(app);
    expect(window.loaded).toEqual(['http://localhost:5173/']);
  });

  it('forwards engine events to the window', async () => {
    const { app } = await startMain();
    const window = await ready(app);
    h.world.engine.emit('jobs.changed' satisfies EventName, { id: 'j1' });
    expect(window.webContents.sent).toEqual([{ channel: 'jobs.changed', args: [{ id: 'j1' }] }]);
  });

  it('closes the engine before quitting', async () => {
    const { app } = await startMain();
    await ready(app);
    const close = vi.spyOn(h.world.engine, 'close');
    expect(app.willQuit()).toBe(true);
    expect(close).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(app.quitCalls).toBe(1));
    expect(app.willQuit()).toBe(false);
  });

  it('keeps running when worker.log cannot be written, and says so once', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'studio-main-log-'));
    // A folder where the log file should be: opening it fails, as a removed or read-only logs/ would.
    mkdirSync(path.join(data, 'logs', 'worker.log'), { recursive: true });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { app } = await startMain({ STUDIO_DATA_DIR: data });
      const window = await ready(app);
      await vi.waitFor(() => expect(warn.mock.calls.some(([m]) => String(m).includes('worker.log cannot be written'))).toBe(true));
      expect(window.loaded).toHaveLength(1);
      expect(app.quitCalls).toBe(0);
    } finally {
      warn.mockRestore();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('quits at once when another instance holds the lock', async () => {
    h.world = h.makeWorld();
    const first = h.world;
    first.app.singleInstance = false;
    first.app.paths.userData = mkdtempSync(path.join(tmpdir(), 'studio-main-'));
    dataDir = first.app.paths.userData;
    // startMain would replace the world; import directly against this one.
    vi.resetModules();
    const open = vi.spyOn(first, 'openEngine');
    await import('../../../src-main/app/main.ts');
    first.app.becomeReady();
    await new Promise((r) => setTimeout(r, 10));
    expect(first.app.quitCalls).toBe(1);
    expect(open).not.toHaveBeenCalled();
  });

  it('shows why it could not start and exits with an error', async () => {
    const { app } = await startMain();
    const showErrorBox = vi.spyOn(h.world.dialog, 'showErrorBox');
    h.world.openEngine = async () => {
      throw new Error('the data folder is not writable');
    };
    app.becomeReady();
    await vi.waitFor(() => expect(app.exitCodes).toEqual([1]));
    expect(showErrorBox).toHaveBeenCalledWith('OurVidz Studio could not start', expect.stringContaining('the data folder is not writable'));
  });
});
