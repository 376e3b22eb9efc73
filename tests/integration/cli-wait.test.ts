/**
 * `studio generate --wait` next to a running `studio serve` (as next to the open app): the CLI is a
 * client that enqueues and waits, and Ctrl-C cancels its job cleanly and exits 130.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/studio.mjs', import.meta.url));

let data: string;
let serve: ChildProcess;
let url: string;
let token: string;

async function api<T>(channel: string, params?: unknown): Promise<T> {
  const res = await fetch(`${url}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: params === undefined ? '' : JSON.stringify(params),
  });
  return (await res.json()) as T;
}

beforeAll(async () => {
  data = mkdtempSync(path.join(tmpdir(), 'studio-cli-wait-'));
  serve = spawn(process.execPath, [BIN, 'serve', '--json', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: serve.stdout! }).once('line', resolve);
    serve.once('exit', (code) => reject(new Error(`studio serve exited with ${code}`)));
  });
  ({ url, token } = JSON.parse(line) as { url: string; token: string });
  // Paused, so the job stays queued while the CLI waits for it.
  await api('queue.pause');
});

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await exited;
  }
  rmSync(data, { recursive: true, force: true });
});

describe('generate --wait while another process runs the queue', () => {
  it('enqueues as a client, and Ctrl-C cancels the job and exits 130', async () => {
    const cli = spawn(process.execPath, [BIN, '--data', data, 'generate', '--type', 'image_fast', '--prompt', 'a harbour', '--wait'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exit = new Promise<number | null>((resolve) => cli.on('close', resolve));
    await new Promise<void>((resolve) => {
      cli.stderr!.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        if (/^queued/m.test(stderr)) resolve();
      });
    });
    expect(stderr).toMatch(/the open app runs it/);
    expect(stderr).toMatch(/The queue is paused, so the job waits: run `studio queue resume`/);
    const [queued] = await api<{ id: string; status: { state: string } }[]>('jobs.list');
    expect(queued?.status.state).toBe('queued');
    cli.kill('SIGINT');
    expect(await exit).toBe(130);
    expect(stderr).toMatch(/cancelling/);
    const job = await api<{ status: { state: string } }>('jobs.get', { id: queued!.id });
    expect(job.status.state).toBe('cancelled');
  });
});
