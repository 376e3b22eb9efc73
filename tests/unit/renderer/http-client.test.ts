/**
 * The browser transport against a real loopback HTTP + WebSocket server, using Node's own fetch and
 * WebSocket (the same Web APIs the browser has).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket as ServerSocket } from 'ws';
import { CHANNELS, EVENT_NAMES, eventVerb, splitName } from '../../../src-preload/contract/index.ts';
import type { QueueState } from '../../../src-preload/contract/index.ts';
import { StudioApiError } from '../../../src-renderer/src/api/errors.ts';
import { createHttpStudioApi } from '../../../src-renderer/src/api/http-client.ts';
import type { HttpStudioClient } from '../../../src-renderer/src/api/http-client.ts';
import type { ConnectionState } from '../../../src-renderer/src/api/connection.ts';

interface Seen {
  channel: string;
  auth: string | undefined;
  body: unknown;
}

const TOKEN = 'secret-token';
/** The token the test server's socket takes (a restarted server takes another one). */
let acceptedToken = TOKEN;
let server: Server | null = null;
let wss: WebSocketServer | null = null;
let client: HttpStudioClient | null = null;

async function start(answer: (channel: string, body: unknown) => { status: number; body: string }) {
  const seen: Seen[] = [];
  const listenerErrors: unknown[] = [];
  const sockets: ServerSocket[] = [];
  let upgrades = 0;
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const channel = (req.url ?? '').replace('/api/', '');
      const body = JSON.parse(text) as unknown;
      seen.push({ channel, auth: req.headers.authorization, body });
      const a = answer(channel, body);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  wss = new WebSocketServer({ noServer: true });
  const connected: ((ws: ServerSocket) => void)[] = [];
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/events' || url.searchParams.get('token') !== acceptedToken) {
      socket.destroy();
      return;
    }
    upgrades += 1;
    wss!.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      connected.shift()?.(ws);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createHttpStudioApi({
    baseUrl: base,
    token: TOKEN,
    fetch: (url, init) => fetch(url, init),
    openSocket: (url, handlers) => {
      const ws = new WebSocket(url);
      ws.onopen = () => handlers.onOpen();
      ws.onmessage = (e) => handlers.onMessage(e.data);
      ws.onclose = () => handlers.onClose();
      return ws;
    },
    reconnectDelayMs: () => 0,
    onListenerError: (e) => listenerErrors.push(e),
  });
  const nextSocket = () => new Promise<ServerSocket>((resolve) => connected.push(resolve));
  return { seen, sockets, base, client, nextSocket, upgrades: () => upgrades, listenerErrors };
}

function waitForState(c: HttpStudioClient, wanted: ConnectionState): Promise<void> {
  return new Promise((resolve) => {
    if (c.connection.state === wanted) return resolve();
    const off = c.connection.onState((s) => {
      if (s === wanted) {
        off();
        resolve();
      }
    });
  });
}

afterEach(async () => {
  acceptedToken = TOKEN;
  client?.connection.close();
  client = null;
  for (const ws of wss?.clients ?? []) ws.terminate();
  wss?.close();
  // Keep-alive connections would hold the server open for seconds.
  const closing = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  await closing;
  server = null;
});

const queue: QueueState = { paused: true, queued: 2, running: 0 };

describe('HTTP + WebSocket StudioApi', () => {
  it('has a verb for every contract channel and event', async () => {
    const { client } = await start(() => ({ status: 200, body: 'null' }));
    const api = client.api as unknown as Record<string, Record<string, unknown>>;
    for (const c of CHANNELS) {
      const [ns, verb] = splitName(c);
      expect(typeof api[ns]?.[verb], c).toBe('function');
    }
    for (const e of EVENT_NAMES) {
      const [ns] = splitName(e);
      expect(typeof api[ns]?.[eventVerb(e)], e).toBe('function');
    }
  });

  it('posts params as JSON with the bearer token and returns the parsed result', async () => {
    const { client, seen } = await start(() => ({ status: 200, body: JSON.stringify(queue) }));
    await expect(client.api.queue.pause()).resolves.toEqual(queue);
    await client.api.jobs.cancel({ id: 'job-7' });
    expect(seen).toEqual([
      { channel: 'queue.pause', auth: `Bearer ${TOKEN}`, body: {} },
      { channel: 'jobs.cancel', auth: `Bearer ${TOKEN}`, body: { id: 'job-7' } },
    ]);
  });

  it("rejects with the server's WireError", async () => {
    const wire = { code: 'invalid_params', message: 'steps must be from 1 to 150 (got 500)', field: 'request.steps' };
    const { client } = await start(() => ({ status: 400, body: JSON.stringify({ error: wire }) }));
    const error = await client.api.jobs.enqueue({ request: { type: 'sdxl_image_fast', prompt: 'x', steps: 500 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioApiError);
    expect((error as StudioApiError).wire).toEqual(wire);
    expect((error as StudioApiError).message).toBe(wire.message);
  });

  it('says what to do when the token is refused or the server is gone', async () => {
    const { client, base } = await start(() => ({ status: 401, body: '' }));
    await expect(client.api.queue.state()).rejects.toMatchObject({ wire: { code: 'unauthorized', message: expect.stringContaining('studio serve') } });

    const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
    server!.closeAllConnections();
    await closed;
    server = null;
    await expect(client.api.queue.state()).rejects.toMatchObject({ wire: { code: 'unreachable', message: expect.stringContaining(base) } });
  });

  it('delivers pushed events to their listeners until unsubscribed, and survives a throwing listener', async () => {
    const { client, nextSocket, listenerErrors } = await start(() => ({ status: 200, body: 'null' }));
    const got: QueueState[] = [];
    const socket = nextSocket();
    client.api.queue.onChanged(() => {
      throw new Error('listener bug');
    });
    const off = client.api.queue.onChanged((q) => got.push(q));
    const gpu: unknown[] = [];
    client.api.gpu.onChanged((g) => gpu.push(g));
    const ws = await socket;
    await waitForState(client, 'open');

    ws.send(JSON.stringify({ event: 'queue.changed', payload: queue }));
    ws.send(JSON.stringify({ event: 'no.such.event', payload: 1 }));
    ws.send('not json');
    ws.send(JSON.stringify({ event: 'gpu.changed', payload: { marker: 1 } }));
    await expect.poll(() => gpu.length).toBe(1);
    expect(got).toEqual([queue]);
    expect(listenerErrors).toEqual([new Error('listener bug')]);

    off();
    ws.send(JSON.stringify({ event: 'queue.changed', payload: { ...queue, paused: false } }));
    ws.send(JSON.stringify({ event: 'gpu.changed', payload: { marker: 2 } }));
    await expect.poll(() => gpu.length).toBe(2);
    expect(got).toEqual([queue]);
  });

  it('says the server stopped when it stops answering, and goes back to live when it answers again', async () => {
    const first = await start(() => ({ status: 200, body: 'null' }));
    const socket = first.nextSocket();
    first.client.api.queue.onChanged(() => undefined);
    await socket;
    await waitForState(first.client, 'open');
    const port = Number(new URL(first.base).port);

    // The server goes away entirely.
    const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const ws of first.sockets) ws.terminate();
    server!.closeAllConnections();
    await closed;
    await waitForState(first.client, 'stopped');

    // And comes back at the same address with the same token (a blip, not a restart): live again.
    const again = createServer((req, res) => res.writeHead(200).end('null'));
    const wss2 = new WebSocketServer({ server: again });
    await new Promise<void>((resolve) => again.listen(port, '127.0.0.1', resolve));
    try {
      await waitForState(first.client, 'open');
    } finally {
      first.client.connection.close();
      for (const ws of wss2.clients) ws.terminate();
      wss2.close();
      const done = new Promise<void>((resolve) => again.close(() => resolve()));
      again.closeAllConnections();
      await done;
    }
  });

  it('stops trying and says a new link is needed once a server answers on the address but refuses the token', async () => {
    let accept = true;
    const { client, nextSocket, sockets, upgrades, seen } = await start(() => (accept ? { status: 200, body: 'null' } : { status: 401, body: '{"error":{"code":"unauthorized","message":"missing or wrong token: send `Authorization: Bearer <token>`"}}' }));
    const socket = nextSocket();
    client.api.queue.onChanged(() => undefined);
    await socket;
    await waitForState(client, 'open');

    // `studio serve` started again on this port: a new token, so the socket and every call are refused.
    accept = false;
    acceptedToken = 'the-new-token';
    for (const ws of sockets) ws.terminate();
    await waitForState(client, 'refused');
    const error = await client.api.jobs.list().catch((e: unknown) => e);
    expect((error as StudioApiError).wire).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('Open the link `studio serve` printed this time') });
    expect((error as StudioApiError).message).not.toContain('Authorization');
    // Nothing more is tried: no socket, no probe.
    const requests = seen.length;
    const attempts = upgrades();
    await new Promise((r) => setTimeout(r, 150));
    expect(upgrades()).toBe(attempts);
    expect(seen.length).toBe(requests);
    expect(client.connection.state).toBe('refused');
  });

  it('takes a refused call (a reload with an old link) as the end of the session at once', async () => {
    const { client } = await start(() => ({ status: 401, body: '' }));
    const states: ConnectionState[] = [];
    client.connection.onState((s) => states.push(s));
    await expect(client.api.app.info()).rejects.toMatchObject({ wire: { code: 'unauthorized' } });
    expect(states).toEqual(['refused']);
  });

  it('reconnects after the socket drops and keeps delivering to the same listeners', async () => {
    const { client, nextSocket, upgrades } = await start(() => ({ status: 200, body: 'null' }));
    const got: QueueState[] = [];
    let first = nextSocket();
    client.api.queue.onChanged((q) => got.push(q));
    const ws1 = await first;
    await waitForState(client, 'open');

    const states: ConnectionState[] = [];
    client.connection.onState((s) => states.push(s));
    first = nextSocket();
    ws1.terminate();
    const ws2 = await first;
    await waitForState(client, 'open');
    expect(states).toEqual(['reconnecting', 'open']);
    expect(upgrades()).toBe(2);

    ws2.send(JSON.stringify({ event: 'queue.changed', payload: queue }));
    await expect.poll(() => got).toEqual([queue]);
  });
});
