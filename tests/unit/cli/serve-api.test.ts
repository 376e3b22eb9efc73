/**
 * `studio serve` against a hand-written engine: the HTTP API, the event WebSocket and the static
 * renderer, as a browser or a script would use them over loopback.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../../../src-main/cli/serve.ts';
import type { RunningServer } from '../../../src-main/cli/serve.ts';
import { FakeEngine } from './fake-engine.ts';

let server: RunningServer;
let engine: FakeEngine;
let dir: string;

function raw(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: pathname, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function call(channel: string, params?: unknown, init: { token?: string | null; body?: string; method?: string } = {}) {
  const token = init.token === undefined ? server.token : init.token;
  const res = await fetch(`${server.url}/api/${channel}`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(init.method === 'GET' ? {} : { body: init.body ?? (params === undefined ? '' : JSON.stringify(params)) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string; field?: string } } };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'studio-serve-'));
  const renderer = path.join(dir, 'renderer');
  mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>OurVidz Studio</title>');
  writeFileSync(path.join(renderer, 'assets', 'app-1a2b.js'), 'console.log("app")');
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the build');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(renderer, 'leak.txt'));
  engine = new FakeEngine({ role: 'runner', steps: 2 });
  server = await startServer(engine, { rendererDir: renderer, maxBodyBytes: 4096 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTP API', () => {
  it('prints a loopback URL carrying the token in the fragment', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.openUrl).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  });

  it('runs a channel and returns its result as JSON', async () => {
    const r = await call('queue.state');
    expect(r).toEqual({ status: 200, body: { paused: false, queued: 0, running: 0 } });
    const enq = await call('jobs.enqueue', { request: { type: 'image_fast', prompt: 'harbour at night' } });
    expect(enq.status).toBe(200);
    expect(enq.body.params).toMatchObject({ prompt: 'harbour at night', steps: 4 });
  });

  it('answers 400 naming the field when params break the contract schema', async () => {
    const r = await call('jobs.enqueue', { request: { type: 'image_fast', prompt: 'x', steps: 500 } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_params', field: 'request.steps' });
    expect(r.body.error?.message).toMatch(/steps must be from 1 to 150 \(got 500\)/);
    const extra = await call('queue.pause', { force: true });
    expect(extra.status).toBe(400);
    expect(extra.body.error?.code).toBe('invalid_params');
  });

  it('maps engine refusals and crashes to fitting status codes', async () => {
    expect((await call('jobs.cancel', { id: 'nope' })).status).toBe(404);
    const done = await call('jobs.retry', { id: 'x' });
    expect(done.status).toBe(409);
    expect(done.body.error).toEqual({ code: 'not_retryable', message: 'not in this fake' });
  });

  it('refuses unknown channels, other methods, bad JSON and oversized bodies', async () => {
    for (const name of ['jobs.explode', 'constructor', '__proto__', 'toString']) {
      const r = await call(name);
      expect(r.status, name).toBe(404);
      expect(r.body.error?.code).toBe('unknown_channel');
    }
    expect((await call('queue.state', undefined, { method: 'GET' })).status).toBe(405);
    const bad = await call('queue.state', undefined, { body: '{"oops"' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_json');
    const big = await call('jobs.enqueue', undefined, { body: JSON.stringify({ request: { type: 'image_fast', prompt: 'x'.repeat(5000) } }) });
    expect(big.status).toBe(413);
  });
});

describe('event WebSocket', () => {
  it('pushes every contract event as {event, payload}', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const seen: { event: string; payload: { jobId?: string; id?: string } }[] = [];
    const finished = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data));
        seen.push(msg);
        if (msg.event === 'jobs.changed' && msg.payload.status.state === 'done') resolve();
      }),
    );
    const enq = await call('jobs.enqueue', { request: { type: 'image_fast', prompt: 'events' } });
    await finished;
    ws.close();
    const id = enq.body.id as string;
    expect(seen.some((m) => m.event === 'jobs.progress' && m.payload.jobId === id)).toBe(true);
    expect(seen.filter((m) => m.event === 'jobs.changed' && m.payload.id === id).length).toBeGreaterThanOrEqual(2);
  });

  it('accepts the token as a subprotocol and echoes that protocol back', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, [`bearer.${server.token}`]);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(ws.protocol).toBe(`bearer.${server.token}`);
    ws.close();
  });
});

describe('static renderer', () => {
  it('serves the build with MIME types and the app for app routes', async () => {
    const index = await raw('/');
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index.body).toContain('OurVidz Studio');
    expect(await raw('/assets/app-1a2b.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', body: 'console.log("app")' });
    expect((await raw('/library/some-asset')).body).toContain('OurVidz Studio');
    expect((await raw('/assets/missing.js')).status).toBe(404);
  });

  it('never serves a file outside the build folder', async () => {
    for (const p of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%5c..%5csecret.txt', '/leak.txt']) {
      const r = await raw(p);
      expect(r.body, p).not.toContain('outside the build');
      expect([400, 404], p).toContain(r.status);
    }
  });

  it('says to run npm run build when there is no build', async () => {
    const bare = await startServer(engine, { rendererDir: path.join(dir, 'nothing-here') });
    try {
      const res = await fetch(`${bare.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });
});
