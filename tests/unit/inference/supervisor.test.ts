/**
 * Supervisor decisions that real processes make hard to stage on purpose: a worker leaving on its
 * idle timeout just as a job is sent, a worker that never starts, a worker from another build.
 * A scripted channel stands in for the process.
 */
import { describe, expect, it } from 'vitest';
import { WorkerSupervisor, describeExit } from '../../../src-main/engine/inference/supervisor.ts';
import type { WorkerChannel, WorkerSpawner } from '../../../src-main/engine/inference/spawner.ts';
import type { RunRequest } from '../../../src-main/engine/pipelines/types.ts';

class FakeWorker implements WorkerChannel {
  readonly pid: number;
  readonly sent: { type: string; [k: string]: unknown }[] = [];
  readonly env: Record<string, string>;
  killed = false;
  #onMessage: ((m: unknown) => void)[] = [];
  #onExit: ((code: number | null, signal: string | null) => void)[] = [];
  constructor(pid: number, env: Record<string, string>) {
    this.pid = pid;
    this.env = env;
  }
  send(message: unknown): void {
    this.sent.push(message as { type: string });
  }
  onMessage(cb: (m: unknown) => void): void {
    this.#onMessage.push(cb);
  }
  onExit(cb: (code: number | null, signal: string | null) => void): void {
    this.#onExit.push(cb);
  }
  kill(): void {
    this.killed = true;
    this.exit(null, 'SIGKILL');
  }
  say(message: Record<string, unknown>): void {
    for (const cb of this.#onMessage) cb({ v: 1, ...message });
  }
  ready(): void {
    this.say({ type: 'ready', pid: this.pid, providersAvailable: ['cpu'] });
  }
  exit(code: number | null, signal: string | null = null): void {
    for (const cb of this.#onExit.splice(0)) cb(code, signal);
  }
}

function harness() {
  const workers: FakeWorker[] = [];
  const spawner: WorkerSpawner = (_entry, options) => {
    const w = new FakeWorker(1000 + workers.length, { ...options.env });
    workers.push(w);
    return w;
  };
  return { workers, spawner };
}

const req = (jobId: string): RunRequest => ({
  jobId,
  jobType: 'image_fast',
  params: {
    prompt: 'p',
    negativePrompt: '',
    seed: 1,
    steps: 4,
    guidance: 5,
    width: 480,
    height: 832,
    frames: 1,
    count: 1,
    batchIndex: null,
    scheduler: 'unipc',
    model: null,
    enhancedPrompt: null,
    fps: 16,
  },
  model: { id: 'wan', family: 'wan', path: '/models/wan' },
  enhancer: null,
  stagingDir: '/tmp/s',
  maxBatch: 1,
  providers: ['cpu'],
});

const result = { outputs: [], provider: 'cpu', providerNote: null, enhancedPrompt: null, timings: {} };

describe('WorkerSupervisor (scripted worker)', () => {
  it('holds messages until the worker says ready, and hands it its start options', async () => {
    const { workers, spawner } = harness();
    const s = new WorkerSupervisor({ spawner, entry: '/w.js', pipelines: { wan: '/p/wan.js' }, idleMs: 1234 });
    const run = s.run('wan', req('j1'), () => {});
    const w = workers[0]!;
    expect(w.sent).toEqual([]);
    expect(JSON.parse(w.env['OURVIDZ_WORKER_OPTIONS']!)).toEqual({ slot: 'wan', pipelines: { wan: '/p/wan.js' }, idleTimeoutMs: 1234, previewIntervalMs: 250 });
    expect(s.status()[0]!.state).toBe('busy');
    w.ready();
    expect(w.sent.map((m) => m.type)).toEqual(['run']);
    w.say({ type: 'done', jobId: 'j1', result });
    expect(await run).toEqual({ kind: 'done', result });
    expect(s.status()[0]).toMatchObject({ state: 'idle', pid: 1000, providersAvailable: ['cpu'] });
  });

  it('gives a job sent to a worker that was already leaving (idle timeout) to a fresh worker', async () => {
    const { workers, spawner } = harness();
    const s = new WorkerSupervisor({ spawner });
    s.warm('wan');
    workers[0]!.ready();
    const run = s.run('wan', req('j1'), () => {});
    // The worker had decided to leave before the run arrived: it says so and exits cleanly.
    workers[0]!.say({ type: 'exiting', reason: 'idle' });
    workers[0]!.exit(0);
    expect(workers).toHaveLength(2);
    workers[1]!.ready();
    expect(workers[1]!.sent.map((m) => m.type)).toEqual(['run']);
    workers[1]!.say({ type: 'done', jobId: 'j1', result });
    expect((await run).kind).toBe('done');
    expect(s.status()[0]!.crashes).toBe(0);
  });

  it('counts a worker that never becomes ready as a crash', async () => {
    const { workers, spawner } = harness();
    const s = new WorkerSupervisor({ spawner, startTimeoutMs: 20, maxConsecutiveCrashes: 1 });
    const gaveUp: string[] = [];
    s.on('gave-up', (e) => gaveUp.push(e.message));
    const end = await s.run('wan', req('j1'), () => {});
    expect(workers[0]!.killed).toBe(true);
    expect(end).toMatchObject({ kind: 'failed', code: 'worker_crashed', transient: true });
    expect(gaveUp).toHaveLength(1);
    expect(await s.run('wan', req('j2'), () => {})).toMatchObject({ code: 'worker_crash_loop', transient: false });
  });

  it('fails the job with a clear message when the worker speaks another protocol version', async () => {
    const { workers, spawner } = harness();
    const s = new WorkerSupervisor({ spawner });
    const logs: string[] = [];
    s.on('log', (l) => logs.push(l.message));
    const run = s.run('wan', req('j1'), () => {});
    workers[0]!.ready();
    workers[0]!.say({ type: 'progress', jobId: 'j1', step: 1, of: 4, stage: null, preview: 7 });
    workers[0]!.say({ type: 'done', v: 2, jobId: 'j1', result });
    const end = await run;
    expect(end).toMatchObject({ kind: 'failed', code: 'worker_protocol_error', transient: false });
    expect(end.kind === 'failed' && end.message).toMatch(/protocol version 2, expected 1.*different builds/);
    expect(logs[0]).toMatch(/progress.*preview/);
  });

  it('passes progress with preview bytes to the caller, and ignores reports for other jobs', async () => {
    const { workers, spawner } = harness();
    const s = new WorkerSupervisor({ spawner });
    const seen: unknown[] = [];
    const run = s.run('wan', req('j1'), (p) => seen.push(p));
    const w = workers[0]!;
    w.ready();
    w.say({ type: 'progress', jobId: 'other', step: 9, of: 9, stage: null, preview: null });
    w.say({ type: 'progress', jobId: 'j1', step: 1, of: 4, stage: 'denoise', preview: Buffer.from([1, 2, 3]).toString('base64') });
    w.say({ type: 'cancelled', jobId: 'other' });
    w.say({ type: 'failed', jobId: 'j1', code: 'oom', message: 'out of memory', transient: true });
    expect(await run).toEqual({ kind: 'failed', code: 'oom', message: 'out of memory', transient: true });
    expect(seen).toEqual([{ step: 1, of: 4, stage: 'denoise', preview: new Uint8Array([1, 2, 3]) }]);
  });

  it('unload resolves when the worker confirms, or when it exits first', async () => {
    const { workers, spawner } = harness();
    const s = new WorkerSupervisor({ spawner });
    s.warm('sdxl');
    s.warm('wan');
    workers.forEach((w) => w.ready());
    let done = false;
    const all = s.unload().then(() => (done = true));
    expect(workers.map((w) => w.sent.map((m) => m.type))).toEqual([['unload'], ['unload']]);
    workers[0]!.say({ type: 'unloaded', families: ['sdxl'] });
    await Promise.resolve();
    expect(done).toBe(false);
    workers[1]!.exit(null, 'SIGSEGV');
    await all;
    expect(s.status().map((w) => [w.slot, w.crashes])).toEqual([
      ['sdxl', 0],
      ['wan', 1],
    ]);
  });
});

describe('describeExit', () => {
  it('explains signals and Windows crash codes', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('signal SIGKILL (killed; often the system ran out of memory)');
    expect(describeExit(3, null)).toBe('exit code 3');
    expect(describeExit(-1073741819, null)).toBe('exit code 0xc0000005 (access violation in a native library)');
  });
});
