/**
 * The studio window and the rules it lives by: a sandboxed, context-isolated renderer with no Node,
 * a strict Content-Security-Policy, no new windows, no navigation away from the app, and web links
 * handed to the system browser after a URL-parser check (Electron security checklist 1-4, 7, 13-15).
 */
import type {
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Event as ElectronEvent,
  OnHeadersReceivedListenerDetails,
  HeadersReceivedResponse,
  Session,
  Shell,
  WebContents,
  WebContentsWillNavigateEventParams,
  WebContentsWillRedirectEventParams,
  WebPreferences,
} from 'electron';
import { MEDIA_SCHEME, isAppUrl, isExternalWebUrl } from './origin.ts';

/**
 * What window.ts touches on a webContents, in electron's own types (so the test mock cannot drift).
 * The listeners' return values are ignored, hence `unknown` rather than electron's `this`.
 */
export interface GuardedContents {
  setWindowOpenHandler: WebContents['setWindowOpenHandler'];
  on(event: 'will-navigate', listener: (event: ElectronEvent<WebContentsWillNavigateEventParams>) => void): unknown;
  on(event: 'will-redirect', listener: (event: ElectronEvent<WebContentsWillRedirectEventParams>) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): unknown;
}

/** What window.ts touches on a BrowserWindow. */
export interface StudioWindow {
  readonly webContents: GuardedContents;
  loadURL: BrowserWindow['loadURL'];
  show: BrowserWindow['show'];
  once(event: 'ready-to-show', listener: () => void): unknown;
}

export type WindowConstructor<W extends StudioWindow = StudioWindow> = new (options: BrowserWindowConstructorOptions) => W;

export type Log = (message: string, detail?: unknown) => void;

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    // webSecurity and allowRunningInsecureContent stay at their secure defaults on purpose.
  };
}

/**
 * The page may run only its own scripts, talk only to its own origin, and show images/video from
 * itself, data:/blob: URLs (live previews) and the library's media scheme. In development the Vite
 * dev server needs its inline React-refresh preamble and its HMR WebSocket.
 */
export function contentSecurityPolicy(options: { readonly appUrl: string; readonly dev: boolean }): string {
  const media = `${MEDIA_SCHEME}:`;
  const devWs = (() => {
    const u = new URL(options.appUrl);
    return u.protocol === 'http:' || u.protocol === 'https:' ? ` ws://${u.host} wss://${u.host}` : '';
  })();
  const directives: Record<string, string> = {
    'default-src': "'none'",
    'script-src': options.dev ? "'self' 'unsafe-inline'" : "'self'",
    // radix-ui and friends set inline styles; CSS cannot run script, so this is the accepted trade.
    'style-src': "'self' 'unsafe-inline'",
    'img-src': `'self' data: blob: ${media}`,
    'media-src': `'self' blob: ${media}`,
    'font-src': "'self' data:",
    'connect-src': options.dev ? `'self'${devWs}` : "'self'",
    'worker-src': "'self' blob:",
    'manifest-src': "'self'",
    'frame-src': "'none'",
    'object-src': "'none'",
    'base-uri': "'none'",
    'form-action': "'none'",
    'frame-ancestors': "'none'",
  };
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

/** The only permissions a creator's studio needs: copy a prompt, watch a video full screen. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write', 'fullscreen']);

export type HeadersReceivedListener = (
  details: OnHeadersReceivedListenerDetails,
  callback: (response: HeadersReceivedResponse) => void,
) => void;

/** What hardenSession touches on a session. */
export interface GuardedSession {
  readonly webRequest: { onHeadersReceived(listener: HeadersReceivedListener | null): void };
  setPermissionRequestHandler: Session['setPermissionRequestHandler'];
  setPermissionCheckHandler: Session['setPermissionCheckHandler'];
}

/** Applies the CSP to every response of the session and denies every permission but two. */
export function hardenSession(session: GuardedSession, options: { readonly csp: string; readonly appUrl: string }): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      // One policy, ours: a server's own CSP header is replaced, not merged.
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [options.csp];
    callback({ responseHeaders: headers });
  });
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(details.requestingUrl, options.appUrl));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => {
    return ALLOWED_PERMISSIONS.has(permission) && isAppUrl(requestingOrigin, options.appUrl);
  });
}

export interface GuardOptions {
  readonly appUrl: string;
  readonly openExternal: Shell['openExternal'];
  readonly log?: Log;
}

/** New windows are never created; http(s) links go to the system browser; nothing navigates away. */
export function guardContents(contents: GuardedContents, options: GuardOptions): void {
  const log = options.log ?? (() => {});
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url) && !isAppUrl(url, options.appUrl)) {
      options.openExternal(url).catch((e: unknown) => log(`could not open ${url} in the browser`, e));
    } else {
      log(`blocked a window for ${url}`);
    }
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, options.appUrl)) return;
    event.preventDefault();
    log(`blocked navigation to ${event.url}`);
  });
  contents.on('will-redirect', (event) => {
    if (isAppUrl(event.url, options.appUrl)) return;
    event.preventDefault();
    log(`blocked a redirect to ${event.url}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
}

export interface MainWindowOptions extends GuardOptions {
  readonly preloadPath: string;
}

export function createMainWindow<W extends StudioWindow>(Window: WindowConstructor<W>, options: MainWindowOptions): W {
  const log = options.log ?? (() => {});
  const window = new Window({
    title: 'OurVidz Studio',
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    backgroundColor: '#0e0f13',
    show: false,
    webPreferences: secureWebPreferences(options.preloadPath),
  });
  guardContents(window.webContents, options);
  window.once('ready-to-show', () => window.show());
  window.loadURL(options.appUrl).catch((e: unknown) => log(`could not load ${options.appUrl}`, e));
  return window;
}
