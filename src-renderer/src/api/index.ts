/**
 * Picks the transport once: the preload's `window.studio` inside Electron, else the HTTP+WebSocket
 * client for a browser served by `studio serve`.
 */
import type { StudioApi } from '../contract.ts';
import { alwaysOpen } from './connection.ts';
import type { Connection } from './connection.ts';
import { createHttpStudioApi } from './http-client.ts';
import { configureMedia } from './media.ts';
import { takeToken, tokenInHash } from './token.ts';

export type Transport =
  | { readonly kind: 'electron'; readonly api: StudioApi; readonly connection: Connection }
  | { readonly kind: 'http'; readonly api: StudioApi; readonly connection: Connection }
  | { readonly kind: 'no-token' };

let chosen: Transport | null = null;

export function resolveTransport(): Transport {
  if (chosen) return chosen;
  const fromPreload = (window as unknown as { studio?: StudioApi }).studio;
  if (fromPreload) {
    chosen = { kind: 'electron', api: fromPreload, connection: alwaysOpen };
    return chosen;
  }
  const tokenEnv = {
    storage: sessionStorage,
    clearHash: () => history.replaceState(null, '', `${location.pathname}${location.search}`),
  };
  const token = takeToken({ ...tokenEnv, hash: location.hash });
  // A new link opened in this tab (pasted into the address bar after `studio serve` started again)
  // only changes the fragment, which loads nothing: take its token and start over with it.
  window.addEventListener('hashchange', () => {
    if (!tokenInHash(location.hash)) return;
    takeToken({ ...tokenEnv, hash: location.hash });
    location.reload();
  });
  if (!token) {
    chosen = { kind: 'no-token' };
    return chosen;
  }
  configureMedia({ kind: 'http', baseUrl: location.origin, token });
  const client = createHttpStudioApi({
    baseUrl: location.origin,
    token,
    fetch: (url, init) => fetch(url, init),
    openSocket: (url, handlers) => {
      const ws = new WebSocket(url);
      ws.onopen = () => handlers.onOpen();
      ws.onmessage = (event) => handlers.onMessage(event.data);
      ws.onclose = () => handlers.onClose();
      return ws;
    },
  });
  chosen = { kind: 'http', ...client };
  return chosen;
}

/** The engine's API for this window. Throws if the page was opened without its session token. */
export function getStudioApi(): StudioApi {
  const t = resolveTransport();
  if (t.kind === 'no-token') {
    throw new Error('No session token: open the link that `studio serve` printed (it ends in #token=…).');
  }
  return t.api;
}

export { StudioApiError, toWireError } from './errors.ts';
export { displayUrl, mediaUrl } from './media.ts';
export type { Connection, ConnectionState } from './connection.ts';
