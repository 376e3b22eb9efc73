/**
 * `studio serve` as shipped (the real CLI and engine in a child process): only this machine's user,
 * holding the per-launch token, can use it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../../src-main/cli/serve.ts';
import type { Handlers } from '../../src-preload/contract/channels.ts';

const BIN = fileURLToPath(new URL('../../bin/studio.mjs', import.meta.url));

interface ServeInfo {
  url: string;
  openUrl: string;
  token: string;
  port: number;
  readyMs: number;
}

let data: string;
let child: ChildProcess;
let info: ServeInfo;

function get(pathname: string, headers: Record<string, string>, method = 'POST'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: info.port, path: pathname, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

/** Resolves with the HTTP status the server answered the upgrade with (101 when it was accepted). */
function wsStatus(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => resolve(-1));
  });
}

beforeAll(async () => {
  data = mkdtempSync(path.join(tmpdir(), 'studio-serve-sec-'));
  child = spawn(process.execPath, [BIN, 'serve', '--json', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`studio serve exited with ${code} before it was ready`)));
  });
  info = JSON.parse(line) as ServeInfo;
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(data, { recursive: true, force: true });
});

describe('studio serve start-up', () => {
  it('prints the loopback URL with a fresh 256-bit token and the ready time as one JSON line', () => {
    expect(info.url).toBe(`http://127.0.0.1:${info.port}`);
    expect(info.openUrl).toBe(`${info.url}/#token=${info.token}`);
    expect(Buffer.from(info.token, 'base64url')).toHaveLength(32);
    expect(info.readyMs).toBeGreaterThan(0);
  });
});

describe('the token is required', () => {
  it('answers 401 without a token or with a wrong one, 200 with the right one', async () => {
    const url = `${info.url}/api/queue.state`;
    const none = await fetch(url, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    // Same length, last character changed to a different one (a fixed 'A' would match 1 token in 64).
    const last = info.token.at(-1) === 'A' ? 'B' : 'A';
    const wrong = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${info.token.slice(0, -1)}${last}` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(url, { method: 'POST', headers: { authorization: `Basic ${info.token}` } });
    expect(basic.status).toBe(401);
    // No token also hides which channels exist.
    expect((await fetch(`${info.url}/api/no.such`, { method: 'POST' })).status).toBe(401);
    const right = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${info.token}` } });
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ paused: false, queued: 0, running: 0 });
  });

  it('refuses the event WebSocket without the token', async () => {
    const base = `ws://127.0.0.1:${info.port}/api/events`;
    expect(await wsStatus(base)).toBe(401);
    expect(await wsStatus(`${base}?token=wrong`)).toBe(401);
    expect(await wsStatus(base, { protocols: ['bearer.wrong'] })).toBe(401);
    expect(await wsStatus(`${base}?token=${info.token}`)).toBe(101);
  });
});

describe('DNS rebinding', () => {
  it('refuses a request whose Host is a foreign name, even with the token', async () => {
    const auth = { authorization: `Bearer ${info.token}` };
    expect(await get('/api/queue.state', { ...auth, host: `evil.example:${info.port}` })).toBe(403);
    expect(await get('/', { host: `evil.example:${info.port}` }, 'GET')).toBe(403);
    expect(await get('/api/queue.state', { ...auth, host: `127.0.0.1:${info.port}`, origin: 'http://evil.example' })).toBe(403);
    expect(await get('/api/queue.state', { ...auth, host: `localhost:${info.port}` })).toBe(200);
    const ws = `ws://127.0.0.1:${info.port}/api/events?token=${info.token}`;
    expect(await wsStatus(ws, { headers: { host: `evil.example:${info.port}` } })).toBe(403);
    expect(await wsStatus(ws, { headers: { origin: 'http://evil.example' } })).toBe(403);
  });
});

describe('loopback only', () => {
  it('refuses to bind a non-loopback address', async () => {
    const handlers = {} as Handlers;
    await expect(startServer({ handlers, on: () => () => undefined }, { host: '0.0.0.0' })).rejects.toThrow(/only listens on this machine/);
    const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'serve', '--host', '0.0.0.0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      p.on('close', (code) => resolve({ code, stderr }));
    });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/--host must be a loopback address/);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && (a.family === 'IPv4' || !a.address.startsWith('fe80:')))
    .map((a) => a!.address);

  it.skipIf(external.length === 0)('is not reachable on this machine’s network addresses', async () => {
    for (const address of external) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port: info.port });
        socket.setTimeout(3000, () => {
          socket.destroy();
          resolve('timeout');
        });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, address).not.toBe('connected');
    }
  });
});

/** Sends raw bytes and returns what came back before the server closed (or 3 s passed). */
function rawExchange(text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: info.port });
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.write(text);
    setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, 3000).unref();
  });
}

describe('requests no page can use to stop the server', () => {
  // An <img src="http://127.0.0.1:PORT//["> on any web site sends one of these.
  const targets = ['//[', '///', '//x@', '//[::1', '//a:b@c'];

  it('answers 400 to request targets that are not paths (HTTP and WebSocket upgrade), and keeps serving', async () => {
    const host = `127.0.0.1:${info.port}`;
    for (const target of targets) {
      const plain = await rawExchange(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(plain, target).toMatch(/^HTTP\/1\.1 400 /);
      const upgrade = await rawExchange(
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      expect(upgrade, `upgrade ${target}`).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(child.exitCode).toBeNull();
    const after = await fetch(`${info.url}/api/queue.state`, { method: 'POST', headers: { authorization: `Bearer ${info.token}` } });
    expect(after.status).toBe(200);
  });

  it('answers a chunked body over the limit with 413, not a reset', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: info.port, path: '/api/queue.state', method: 'POST', headers: { authorization: `Bearer ${info.token}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      for (let i = 0; i < 6; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
    expect(child.exitCode).toBeNull();
  });
});

describe('shutdown', () => {
  it('stops cleanly on SIGTERM and frees the data folder for the next runner', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const again = spawn(process.execPath, [BIN, 'serve', '--json', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: again.stdout! }).once('line', resolve);
      again.once('exit', (code) => reject(new Error(`second serve exited with ${code}`)));
    });
    expect(JSON.parse(line).token).not.toBe(info.token);
    const done = new Promise((r) => again.once('exit', r));
    again.kill('SIGINT');
    await done;
  });
});

