import type { OnHeadersReceivedListenerDetails, PermissionRequest, WebContents } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_URL, isAppUrl, isExternalWebUrl } from '../../../src-main/app/origin.ts';
import { contentSecurityPolicy, createMainWindow, guardContents, hardenSession } from '../../../src-main/app/window.ts';
import { MockBrowserWindow, MockSession, MockShell, MockWebContents } from '../../helpers/electron-mock.ts';

function openStudioWindow(appUrl = APP_URL) {
  const shell = new MockShell();
  const log = vi.fn();
  const window = createMainWindow(MockBrowserWindow, {
    preloadPath: '/app/out/preload/index.cjs',
    appUrl,
    openExternal: (url) => shell.openExternal(url),
    log,
  });
  return { window, shell, log };
}

beforeEach(() => {
  MockBrowserWindow.instances.length = 0;
});

describe('createMainWindow', () => {
  it('creates one sandboxed, context-isolated window without Node and with web security on', () => {
    const { window } = openStudioWindow();
    expect(MockBrowserWindow.instances).toEqual([window]);
    const prefs = window.options.webPreferences;
    expect(prefs).toBeDefined();
    expect(prefs?.contextIsolation).toBe(true);
    expect(prefs?.sandbox).toBe(true);
    expect(prefs?.nodeIntegration).toBe(false);
    expect(prefs?.nodeIntegrationInWorker).toBe(false);
    expect(prefs?.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs?.webviewTag).toBe(false);
    // Secure by default: left unset (true), never switched off.
    expect(prefs?.webSecurity).not.toBe(false);
    expect(prefs?.allowRunningInsecureContent).not.toBe(true);
    expect(prefs?.experimentalFeatures).not.toBe(true);
    expect(prefs?.preload).toBe('/app/out/preload/index.cjs');
  });

  it('loads the app URL and shows the window only when it is ready', () => {
    const { window } = openStudioWindow();
    expect(window.loaded).toEqual([APP_URL]);
    expect(window.options.show).toBe(false);
    expect(window.shown).toBe(false);
    window.emit('ready-to-show');
    expect(window.shown).toBe(true);
  });

  it('denies every new window; web links go to the system browser', () => {
    const { window, shell } = openStudioWindow();
    expect(window.webContents.openWindow('https://ourvidz.com/pricing')).toEqual({ action: 'deny' });
    expect(window.webContents.openWindow('http://example.org/docs?q=1')).toEqual({ action: 'deny' });
    expect(shell.opened).toEqual(['https://ourvidz.com/pricing', 'http://example.org/docs?q=1']);
  });

  it.each([
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'studio://app/index.html',
    'studio-media://asset/123',
    'smb://fileserver/share',
    'ms-settings:privacy',
    'vbscript:msgbox',
    'https//missing-colon.example',
    '',
  ])('never hands %j to the shell (and still denies the window)', (url) => {
    const { window, shell } = openStudioWindow();
    expect(window.webContents.openWindow(url)).toEqual({ action: 'deny' });
    expect(shell.opened).toEqual([]);
  });

  it('prevents navigating or redirecting away from the app', () => {
    const { window, log } = openStudioWindow();
    expect(window.webContents.navigate('https://evil.example/')).toBe(true);
    expect(window.webContents.navigate('file:///etc/passwd')).toBe(true);
    expect(window.webContents.navigate('studio://app.evil/index.html')).toBe(true);
    expect(window.webContents.navigate('https://evil.example/', 'will-redirect')).toBe(true);
    expect(log).toHaveBeenCalledWith('blocked navigation to https://evil.example/');
  });

  it('lets the app navigate within itself (reload, its own pages)', () => {
    const { window } = openStudioWindow();
    expect(window.webContents.navigate('studio://app/index.html')).toBe(false);
    expect(window.webContents.navigate('studio://app/other.html')).toBe(false);
  });

  it('treats the dev server as the app in development, and only that port', () => {
    const { window, shell } = openStudioWindow('http://localhost:5173/');
    expect(window.webContents.navigate('http://localhost:5173/')).toBe(false);
    expect(window.webContents.navigate('http://localhost:5174/')).toBe(true);
    // A window for the app itself is not an external link.
    expect(window.webContents.openWindow('http://localhost:5173/popup')).toEqual({ action: 'deny' });
    expect(shell.opened).toEqual([]);
  });

  it('refuses to attach webviews', () => {
    const contents = new MockWebContents();
    guardContents(contents, { appUrl: APP_URL, openExternal: async () => {} });
    const event = { defaultPrevented: false, preventDefault: vi.fn() };
    contents.emit('will-attach-webview', event, {}, {});
    expect(event.preventDefault).toHaveBeenCalled();
  });

  it('logs, rather than crashes, when the browser cannot be opened', async () => {
    const contents = new MockWebContents();
    const log = vi.fn();
    const failure = new Error('no handler for https');
    guardContents(contents, { appUrl: APP_URL, openExternal: () => Promise.reject(failure), log });
    contents.openWindow('https://ourvidz.com/');
    await vi.waitFor(() => expect(log).toHaveBeenCalledWith('could not open https://ourvidz.com/ in the browser', failure));
  });
});

describe('contentSecurityPolicy', () => {
  const directives = (csp: string) => new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)] as const));

  it('runs only the app’s own scripts in production', () => {
    const d = directives(contentSecurityPolicy({ appUrl: APP_URL, dev: false }));
    expect(d.get('default-src')).toEqual(["'none'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('img-src')).toEqual(expect.arrayContaining(["'self'", 'data:', 'studio-media:']));
    expect(d.get('media-src')).toEqual(expect.arrayContaining(['studio-media:']));
    expect(contentSecurityPolicy({ appUrl: APP_URL, dev: false })).not.toMatch(/unsafe-eval/);
  });

  it('allows the dev server its inline preamble and HMR socket in development only', () => {
    const d = directives(contentSecurityPolicy({ appUrl: 'http://localhost:5173/', dev: true }));
    expect(d.get('script-src')).toContain("'unsafe-inline'");
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://localhost:5173', 'wss://localhost:5173']);
  });
});

describe('hardenSession', () => {
  const details = (responseHeaders?: Record<string, string[]>) =>
    ({ id: 1, url: APP_URL, method: 'GET', resourceType: 'mainFrame', referrer: '', timestamp: 0, statusLine: 'HTTP/1.1 200', statusCode: 200, responseHeaders }) satisfies OnHeadersReceivedListenerDetails;

  it('puts the app’s CSP on every response, replacing a server’s own', () => {
    const session = new MockSession();
    hardenSession(session, { csp: "default-src 'none'", appUrl: APP_URL });
    const callback = vi.fn();
    session.headersListener?.(details({ 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] }), callback);
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': ["default-src 'none'"] },
    });
    session.headersListener?.(details(undefined), callback);
    expect(callback).toHaveBeenLastCalledWith({ responseHeaders: { 'Content-Security-Policy': ["default-src 'none'"] } });
  });

  it('denies permissions except clipboard writes and fullscreen for the app itself', () => {
    const session = new MockSession();
    hardenSession(session, { csp: '', appUrl: APP_URL });
    const ask = (permission: 'media' | 'geolocation' | 'clipboard-sanitized-write' | 'fullscreen', requestingUrl: string) => {
      const callback = vi.fn();
      const request: PermissionRequest = { isMainFrame: true, requestingUrl };
      session.requestHandler?.({} as WebContents, permission, callback, request);
      return callback.mock.calls[0]?.[0] as boolean;
    };
    expect(ask('media', APP_URL)).toBe(false);
    expect(ask('geolocation', APP_URL)).toBe(false);
    expect(ask('clipboard-sanitized-write', APP_URL)).toBe(true);
    expect(ask('fullscreen', APP_URL)).toBe(true);
    expect(ask('fullscreen', 'https://evil.example/')).toBe(false);
    const check = session.checkHandler;
    expect(check?.(null, 'media', 'studio://app', { isMainFrame: true, requestingUrl: APP_URL, embeddingOrigin: '' })).toBe(false);
    expect(check?.(null, 'clipboard-sanitized-write', 'studio://app', { isMainFrame: true, requestingUrl: APP_URL, embeddingOrigin: '' })).toBe(true);
  });
});

describe('origin helpers', () => {
  it('compares scheme, host and port, never string prefixes', () => {
    expect(isAppUrl('studio://app/x', APP_URL)).toBe(true);
    expect(isAppUrl('studio://app.evil.example/x', APP_URL)).toBe(false);
    expect(isAppUrl('studio://app@evil/x', APP_URL)).toBe(false);
    expect(isAppUrl('http://localhost:5173.evil.example/', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('file:///app/out/renderer/index.html', 'file:///app/out/renderer/index.html#x')).toBe(true);
    expect(isAppUrl('file:///etc/passwd', 'file:///app/out/renderer/index.html')).toBe(false);
  });

  it('only calls http(s) URLs with a host external', () => {
    expect(isExternalWebUrl('https://ourvidz.com')).toBe(true);
    expect(isExternalWebUrl('HTTPS://OURVIDZ.COM/a')).toBe(true);
    expect(isExternalWebUrl('http:/relative')).toBe(true); // the URL parser makes this http://relative/
    expect(isExternalWebUrl('https:')).toBe(false);
    expect(isExternalWebUrl('ftp://files.example')).toBe(false);
  });
});
