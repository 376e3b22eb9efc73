/**
 * A typed stand-in for the parts of Electron that src-main/app and src-preload touch. Electron's
 * binary never starts in tests; these classes implement `Pick<…>`s of electron's own declarations
 * (and the app's narrow interfaces, which are themselves Picks), so a change in Electron's API or
 * in what the app uses fails the type check here instead of drifting.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type {
  App,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  ContextBridge,
  ForkOptions,
  HandlerDetails,
  IpcMain,
  IpcRenderer,
  IpcRendererEvent,
  Session,
  Shell,
  WebContents,
  WebFrameMain,
  WebUtils,
  WindowOpenHandlerResponse,
  utilityProcess,
} from 'electron';
import type { GatewayIpcMain, InvokeEvent, SenderFrame } from '../../src-main/app/ipc-gateway.ts';
import type { GuardedContents, GuardedSession, HeadersReceivedListener, StudioWindow } from '../../src-main/app/window.ts';
import type { IpcRendererLike } from '../../src-preload/bridge.ts';
import type { WebUtilsLike } from '../../src-preload/app-verbs.ts';
import type { UtilityProcessModule, WorkerProcess } from '../../src-main/app/utility-spawner.ts';
import type { QuittableApp } from '../../src-main/app/lifecycle.ts';

// ---------------------------------------------------------------------------------------------
// main process: ipcMain and sender frames

type InvokeListener = (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>;

export class MockIpcMain implements GatewayIpcMain {
  readonly handlers = new Map<string, InvokeListener>();
  /** Every channel passed to handle(), in order, duplicates included. */
  readonly handled: string[] = [];

  handle(channel: string, listener: InvokeListener): void {
    // Electron throws on a second handler for one channel; so does the mock.
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handled.push(channel);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** What the renderer's `ipcRenderer.invoke(channel, ...args)` would get, sent from `frame`. */
  async invoke(channel: string, frame: SenderFrame | null, ...args: unknown[]): Promise<unknown> {
    const listener = this.handlers.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    // The gateway reads only senderFrame; the frame mock is the Pick of WebFrameMain it declares.
    return listener({ senderFrame: frame as WebFrameMain | null }, ...args);
  }
}

/** A top-level frame showing `url`. */
export function mainFrame(url: string): SenderFrame {
  return { url, parent: null };
}

/** An iframe showing `url` inside `parent`. */
export function childFrame(url: string, parent: SenderFrame): SenderFrame {
  // A frame's parent is a full WebFrameMain in Electron; the gateway only checks it is non-null.
  return { url, parent: parent as unknown as WebFrameMain };
}

/** The send side of a webContents, recording what the window would receive. */
export class MockEventTarget {
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

// ---------------------------------------------------------------------------------------------
// app

export class MockApp
  extends EventEmitter
  implements QuittableApp, Pick<App, 'getPath' | 'requestSingleInstanceLock' | 'whenReady' | 'isPackaged'>
{
  quitCalls = 0;
  readonly exitCodes: (number | undefined)[] = [];
  isPackaged = false;
  singleInstance = true;
  readonly paths: Record<string, string> = {};
  #ready = Promise.withResolvers<void>();

  getPath(name: Parameters<App['getPath']>[0]): string {
    const p = this.paths[name];
    if (p === undefined) throw new Error(`no mock path for ${name}`);
    return p;
  }
  requestSingleInstanceLock(): boolean {
    return this.singleInstance;
  }
  whenReady(): Promise<void> {
    return this.#ready.promise;
  }
  /** Electron's 'ready'. */
  becomeReady(): void {
    this.#ready.resolve();
    this.emit('ready');
  }
  quit(): void {
    this.quitCalls += 1;
  }
  exit(code?: number): void {
    this.exitCodes.push(code);
  }
  /** Electron's will-quit: returns whether a listener held the quit back. */
  willQuit(): boolean {
    let prevented = false;
    this.emit('will-quit', { preventDefault: () => (prevented = true) });
    return prevented;
  }
}

// ---------------------------------------------------------------------------------------------
// windows

/** The event object Electron passes to will-navigate / will-redirect listeners. */
export interface MockNavigationEvent {
  readonly url: string;
  defaultPrevented: boolean;
  preventDefault(): void;
}

export class MockWebContents extends EventEmitter implements GuardedContents {
  windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }

  /** What happens when the page calls window.open(url) or a target=_blank link is clicked. */
  openWindow(url: string): WindowOpenHandlerResponse {
    if (!this.windowOpenHandler) return { action: 'allow' }; // Electron's default when no handler is set
    return this.windowOpenHandler({ url, frameName: '', features: '', disposition: 'foreground-tab', referrer: { url: '', policy: 'default' } });
  }

  /** Emits `eventName` the way Electron does before a navigation; returns whether it was prevented. */
  navigate(url: string, eventName: 'will-navigate' | 'will-redirect' = 'will-navigate'): boolean {
    const event: MockNavigationEvent = {
      url,
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    this.emit(eventName, event, url);
    return event.defaultPrevented;
  }
}

export class MockBrowserWindow extends EventEmitter implements StudioWindow {
  static readonly instances: MockBrowserWindow[] = [];
  readonly options: BrowserWindowConstructorOptions;
  readonly webContents = new MockWebContents();
  readonly loaded: string[] = [];
  shown = false;

  constructor(options: BrowserWindowConstructorOptions) {
    super();
    this.options = options;
    MockBrowserWindow.instances.push(this);
  }

  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }

  show(): void {
    this.shown = true;
  }

  isDestroyed(): boolean {
    return false;
  }

  size: { width: number; height: number } = { width: 0, height: 0 };
  maximized = false;
  centred = false;

  setSize(width: number, height: number): void {
    this.size = { width, height };
  }

  getNormalBounds(): { x: number; y: number; width: number; height: number } {
    return { x: 0, y: 0, ...this.size };
  }

  center(): void {
    this.centred = true;
  }

  maximize(): void {
    this.maximized = true;
  }

  isMaximized(): boolean {
    return this.maximized;
  }
}

export class MockShell implements Pick<Shell, 'openExternal'> {
  readonly opened: string[] = [];
  openExternal(url: string): Promise<void> {
    this.opened.push(url);
    return Promise.resolve();
  }
}

type PermissionRequestHandler = NonNullable<Parameters<Session['setPermissionRequestHandler']>[0]>;
type PermissionCheckHandler = NonNullable<Parameters<Session['setPermissionCheckHandler']>[0]>;

export class MockSession implements GuardedSession {
  headersListener: HeadersReceivedListener | null = null;
  requestHandler: PermissionRequestHandler | null = null;
  checkHandler: PermissionCheckHandler | null = null;

  readonly webRequest = {
    onHeadersReceived: (listener: HeadersReceivedListener | null): void => {
      this.headersListener = listener;
    },
  };

  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.requestHandler = handler;
  }

  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void {
    this.checkHandler = handler;
  }
}

// ---------------------------------------------------------------------------------------------
// preload: ipcRenderer and contextBridge

type RendererListener = (event: IpcRendererEvent, ...args: unknown[]) => void;

export class MockIpcRenderer extends EventEmitter implements IpcRendererLike {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  /** How main answers an invoke; replace per test. */
  answer: (channel: string, ...args: unknown[]) => unknown = () => ({ ok: true, value: null });

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    try {
      return Promise.resolve(this.answer(channel, ...args));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  override on(channel: string, listener: RendererListener): this {
    return super.on(channel, listener);
  }

  override removeListener(channel: string, listener: RendererListener): this {
    return super.removeListener(channel, listener);
  }

  /** Main's `webContents.send(channel, payload)`, arriving with an IPC event object first. */
  sendFromMain(channel: string, payload: unknown): MockIpcRendererEvent {
    const event = new MockIpcRendererEvent();
    this.emit(channel, event, payload);
    return event;
  }
}

/** Marker for "the IPC event object": tests assert it never reaches page listeners. */
export class MockIpcRendererEvent {
  readonly sender = 'ipcRenderer';
}

export class MockContextBridge implements Pick<ContextBridge, 'exposeInMainWorld'> {
  readonly world: Record<string, unknown> = {};
  exposeInMainWorld(apiKey: string, api: unknown): void {
    if (apiKey in this.world) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${apiKey}`);
    this.world[apiKey] = api;
  }
}

/**
 * Electron's webUtils in a sandboxed preload: a File from disk has a path; a File made in page
 * script has '' (Electron's answer); anything that is not a File makes it throw.
 */
export class MockWebUtils implements WebUtilsLike {
  /** The path of each File "from disk", keyed by the File object. */
  readonly paths = new Map<File, string>();

  /** A File as a drop from the file manager delivers it: backed by `path` on disk. */
  droppedFile(path: string): File {
    const file = new File([], path.split(/[\\/]/).pop() ?? path);
    this.paths.set(file, path);
    return file;
  }

  getPathForFile(file: File): string {
    if (!(file instanceof File)) throw new TypeError('Error processing argument at index 0, conversion failure from ');
    return this.paths.get(file) ?? '';
  }
}

/**
 * Compile-time proof that electron's real objects fit the app's narrow interfaces, so a mock that
 * implements those interfaces stands for the real thing (checked by `tsc -p tsconfig.node.json`).
 */
export type ElectronFitsTheApp = [
  IpcMain extends GatewayIpcMain ? true : never,
  IpcRenderer extends IpcRendererLike ? true : never,
  Session extends GuardedSession ? true : never,
  BrowserWindow extends StudioWindow ? true : never,
  WebContents extends GuardedContents ? true : never,
  typeof utilityProcess extends UtilityProcessModule ? true : never,
  App extends QuittableApp ? true : never,
  WebUtils extends WebUtilsLike ? true : never,
];
export const electronFitsTheApp: ElectronFitsTheApp = [true, true, true, true, true, true, true, true];

// ---------------------------------------------------------------------------------------------
// utility processes

export class MockUtilityProcess extends EventEmitter implements WorkerProcess {
  pid: number | undefined = undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly posted: unknown[] = [];
  killCalls = 0;
  readonly modulePath: string;
  readonly args: string[];
  readonly options: ForkOptions;

  constructor(modulePath: string, args: string[], options: ForkOptions) {
    super();
    this.modulePath = modulePath;
    this.args = args;
    this.options = options;
  }

  postMessage(message: unknown): void {
    this.posted.push(structuredClone(message));
  }

  kill(): boolean {
    this.killCalls += 1;
    return true;
  }

  /** Electron emits 'spawn' once the process runs, and only then is pid known. */
  spawned(pid: number): void {
    this.pid = pid;
    this.emit('spawn');
  }

  exited(code: number): void {
    this.pid = undefined;
    this.emit('exit', code);
  }
}

export class MockUtilityProcessModule implements UtilityProcessModule {
  readonly forked: MockUtilityProcess[] = [];
  fork(modulePath: string, args: string[], options: ForkOptions): MockUtilityProcess {
    const child = new MockUtilityProcess(modulePath, args, options);
    this.forked.push(child);
    return child;
  }
}
