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
    if (url.pathname !== '/api/events' || url.searchParams.get('token') !== TOKEN) {
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
  client?.connection.close();
  client = null;
  for (const ws of wss?.clients ?? []) ws.terminate();
  wss?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
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
