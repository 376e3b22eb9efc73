/**
 * URL checks shared by the window (navigation, new windows) and the IPC gateway (sender frames).
 * Pure functions over WHATWG URL parsing: a string comparison on URLs is how these checks get bypassed.
 */

/** The app's own scheme and host; the renderer is served from here in a packaged build. */
export const APP_SCHEME = 'studio';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;
/** Library media by opaque asset id (served by the library; a 404 placeholder until then). */
export const MEDIA_SCHEME = 'studio-media';

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * scheme://host[:port] for any URL. WHATWG gives custom schemes an opaque origin ("null"), which would
 * make every custom-scheme page look alike, so the tuple is rebuilt here.
 */
function originTuple(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * Whether `url` belongs to the app loaded from `appUrl`: the same scheme, host and port; for a file:
 * URL (no host to compare) the same file.
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  const u = parse(url);
  const app = parse(appUrl);
  if (!u || !app) return false;
  if (u.protocol !== app.protocol) return false;
  if (app.protocol === 'file:') return u.pathname === app.pathname && u.host === app.host;
  if (app.host === '') return false;
  return originTuple(u) === originTuple(app);
}

/** Only web links leave the app, and only to the system browser. */
export function isExternalWebUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
}
