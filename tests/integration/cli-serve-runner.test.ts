/**
 * `studio generate --wait` as a client of a running engine that really runs jobs (the serve-host
 * fixture: the real engine and server with the test pipeline in real workers): the CLI waits,
 * reports the result files, and Ctrl-C stops a running job at its next step.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/studio.mjs', import.meta.url));
const HOST = fileURLToPath(new URL('../fixtures/serve-host.ts', import.meta.url));

let data: string;
let host: ChildProcess;

function studio(args: string[]) {
  const child = spawn(process.execPath, [BIN, '--data', data, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out.stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out.stderr += c));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, out, exit };
}

beforeAll(async () => {
  data = mkdtempSync(path.join(tmpdir(), 'studio-cli-runner-'));
  host = spawn(process.execPath, [HOST, '--data', data], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OURVIDZ_TEST_STEP_MS: '100' },
  });
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: host.stdout! }).once('line', resolve);
    host.once('exit', (code) => reject(new Error(`serve-host exited with ${code}`)));
  });
});

afterAll(async () => {
  if (host && host.exitCode === null) {
    const exited = new Promise((r) => host.once('exit', r));
    host.kill('SIGTERM');
    await exited;
  }
  rmSync(data, { recursive: true, force: true });
});

describe('generate --wait next to a running engine', () => {
  it('waits for the job and prints the files it made', async () => {
    const run = studio(['generate', '--type', 'image_fast', '--prompt', 'a tiny test', '--steps', '2', '--width', '256', '--height', '256', '--wait', '--json']);
    expect(await run.exit).toBe(0);
    const job = JSON.parse(run.out.stdout) as { status: { state: string; assets: string[] }; files: string[] };
    expect(job.status.state).toBe('done');
    expect(job.files).toHaveLength(1);
    const file = job.files[0]!;
    expect(file.startsWith(path.join(data, 'library', 'image_fast'))).toBe(true);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file).subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('Ctrl-C stops the running job at its next step and exits 130', async () => {
    const run = studio(['generate', '--type', 'image_fast', '--prompt', 'a long one', '--steps', '150', '--width', '256', '--height', '256', '--wait']);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (/^running/m.test(run.out.stderr)) resolve();
      };
      run.child.stderr!.on('data', check);
    });
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.out.stderr).toMatch(/cancelling: the job stops at its next step/);
    const list = studio(['jobs', 'list', '--json', '--state', 'cancelled']);
    await list.exit;
    const [job] = JSON.parse(list.out.stdout) as { params: { prompt: string }; status: { state: string } }[];
    expect(job?.params.prompt).toBe('a long one');
  });
});
