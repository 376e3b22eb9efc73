/**
 * The real `studio` CLI as a child process against a fresh data folder: what a user or a script
 * sees — exit codes, messages, JSON on stdout — with the real engine behind it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/studio.mjs', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function studio(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const inherited = { ...process.env };
    delete inherited.STUDIO_DATA_DIR;
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let data: string;
beforeEach(() => {
  data = mkdtempSync(path.join(tmpdir(), 'studio-cli-'));
});
afterEach(() => {
  rmSync(data, { recursive: true, force: true });
});

const json = (r: Run): unknown => JSON.parse(r.stdout);

describe('studio generate', () => {
  it('exits 2 on a bad param, naming the flag and the range, and queues nothing', async () => {
    const bad = await studio(['--data', data, 'generate', '--type', 'sdxl_image_fast', '--prompt', 'a fox', '--steps', '500']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --steps: steps must be from 1 to 150 (got 500)\n');
    expect(bad.stdout).toBe('');
    const notNumber = await studio(['--data', data, 'generate', '--type', 'sdxl_image_fast', '--prompt', 'a fox', '--guidance', 'high']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toMatch(/--guidance must be a number \(got "high"\)/);
    const list = await studio(['--data', data, 'jobs', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(json(list)).toEqual([]);
  });

  it('queues a job and lists it; --json prints only the job', async () => {
    const gen = await studio(['--data', data, 'generate', '--type', 'image_fast', '--prompt', 'a lighthouse', '--seed', '7', '--json']);
    expect(gen.code).toBe(0);
    expect(gen.stderr).toBe('');
    const job = json(gen) as { id: string; params: { seed: number; steps: number }; status: { state: string } };
    expect(job.params).toMatchObject({ seed: 7, steps: 4 });
    expect(job.status.state).toBe('queued');
    const list = json(await studio(['--data', data, 'jobs', 'list', '--json'])) as { id: string }[];
    expect(list.map((j) => j.id)).toEqual([job.id]);
    const show = await studio(['--data', data, 'jobs', 'show', job.id]);
    expect(show.stdout).toMatch(/^state\s+queued #1$/m);
    expect(show.stdout).toMatch(/^prompt\s+a lighthouse$/m);
  });

  it('fails at once when the job type’s model is not installed, saying where to put it', async () => {
    const models = path.join(data, 'models');
    const r = await studio(['--data', data, 'generate', '--type', 'sdxl_image_fast', '--prompt', 'a fox', '--wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('model not installed: ');
    expect(r.stderr).toContain(models);
    expect(r.stderr).toMatch(/--models DIR/);
    const [job] = json(await studio(['--data', data, 'jobs', 'list', '--json'])) as { status: { state: string; code: string } }[];
    expect(job?.status).toMatchObject({ state: 'failed', code: 'model_not_installed' });
  });

  it('takes the data folder from STUDIO_DATA_DIR when --data is not given', async () => {
    await studio(['generate', '--type', 'image_fast', '--prompt', 'env'], { STUDIO_DATA_DIR: data });
    const list = json(await studio(['--data', data, 'jobs', 'list', '--json'])) as unknown[];
    expect(list).toHaveLength(1);
  });
});

describe('studio jobs and queue', () => {
  it('pauses and resumes the queue, visible to the next process', async () => {
    const paused = await studio(['--data', data, 'queue', 'pause', '--json']);
    expect(paused.code).toBe(0);
    expect(json(paused)).toMatchObject({ paused: true });
    expect(json(await studio(['--data', data, 'queue', 'status', '--json']))).toMatchObject({ paused: true });
    const resumed = await studio(['--data', data, 'queue', 'resume']);
    expect(resumed.stdout).toBe('queue running: 0 queued, 0 running\n');
  });

  it('cancels, retries and moves jobs to the front; refuses unknown ids with exit 3', async () => {
    const a = json(await studio(['--data', data, 'generate', '--type', 'image_high', '--prompt', 'first', '--json'])) as { id: string };
    const b = json(await studio(['--data', data, 'generate', '--type', 'image_high', '--prompt', 'second', '--json'])) as { id: string };
    const front = await studio(['--data', data, 'jobs', 'move-to-front', b.id, '--json']);
    expect(front.code).toBe(0);
    expect(json(front)).toMatchObject({ id: b.id, position: 0 });
    const cancel = await studio(['--data', data, 'jobs', 'cancel', a.id]);
    expect(cancel).toMatchObject({ code: 0, stdout: `cancelled ${a.id}\n` });
    const retry = await studio(['--data', data, 'jobs', 'retry', a.id, '--json']);
    expect(json(retry)).toMatchObject({ id: a.id, status: { state: 'queued' } });
    const missing = await studio(['--data', data, 'jobs', 'cancel', 'no-such-job']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('error: no job with id no-such-job\n');
  });

  it('moves a queued job ahead of another or to the back, and clears finished jobs from the list', async () => {
    const ids: string[] = [];
    for (const prompt of ['one', 'two', 'three']) {
      ids.push((json(await studio(['--data', data, 'generate', '--type', 'image_high', '--prompt', prompt, '--json'])) as { id: string }).id);
    }
    const [one, two, three] = ids as [string, string, string];
    const moved = await studio(['--data', data, 'jobs', 'move', three, '--before', one]);
    expect(moved).toMatchObject({ code: 0, stdout: `moved ${three}: now #1 in line\n` });
    expect(json(await studio(['--data', data, 'jobs', 'move', three, '--last', '--json']))).toMatchObject({ id: three, position: 2 });
    const order = json(await studio(['--data', data, 'jobs', 'list', '--state', 'queued', '--json'])) as { id: string }[];
    expect(order.map((j) => j.id)).toEqual([one, two, three]);
    const neither = await studio(['--data', data, 'jobs', 'move', three]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--before ID');

    await studio(['--data', data, 'jobs', 'cancel', two]);
    const cleared = await studio(['--data', data, 'jobs', 'clear']);
    expect(cleared).toMatchObject({ code: 0, stdout: 'cleared 1 finished job from the list (`studio jobs show ID` still shows each)\n' });
    const listed = json(await studio(['--data', data, 'jobs', 'list', '--json'])) as { id: string }[];
    expect(listed.map((j) => j.id)).toEqual([one, three]);
    expect(json(await studio(['--data', data, 'jobs', 'show', two, '--json']))).toMatchObject({ id: two, status: { state: 'cancelled' } });
    expect((await studio(['--data', data, 'jobs', 'clear', one, '--json'])).stdout).toBe('{\n  "ids": []\n}\n');
  });
});

describe('studio models list', () => {
  it('prints an empty JSON list for an empty models folder, and says where to put models', async () => {
    const empty = path.join(data, 'my-models');
    mkdirSync(empty);
    const r = await studio(['--data', data, 'models', 'list', '--models', empty, '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([]);
    const human = await studio(['--data', data, 'models', 'list', '--models', empty]);
    expect(human.stdout).toContain(`No models found in ${path.join(data, 'models')}, ${empty}.`);
  });
});

describe('studio itself', () => {
  it('prints the version and per-command help, and exits 2 on unknown commands', async () => {
    const v = await studio(['--version']);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await studio(['jobs', 'list', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--state STATE/);
    const unknown = await studio(['paint']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'paint'/);
  });
});
