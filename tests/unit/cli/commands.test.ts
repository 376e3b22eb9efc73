import { describe, expect, it } from 'vitest';
import { main } from '../../../src-main/cli/main.ts';
import type { OpenRequest } from '../../../src-main/cli/commands.ts';
import type { Io } from '../../../src-main/cli/io.ts';
import { FakeEngine } from './fake-engine.ts';
import type { Outcome } from './fake-engine.ts';

function harness(engine: FakeEngine | null = null) {
  const out: string[] = [];
  const err: string[] = [];
  const opened: OpenRequest[] = [];
  let interrupt: (() => void) | null = null;
  const io: Io = {
    stdout: { write: (c: string) => out.push(c), isTTY: false },
    stderr: { write: (c: string) => err.push(c), isTTY: false },
    env: {},
    now: () => Date.now(),
    onInterrupt(l) {
      interrupt = l;
      return () => {
        interrupt = null;
      };
    },
    untilStopped: () => new Promise(() => undefined),
  };
  const run = (argv: string[]) =>
    main(argv, io, {
      openEngine: async (r) => {
        opened.push(r);
        if (!engine) throw new Error('this test must not open the engine');
        return engine;
      },
      forceExit: (code) => {
        throw new Error(`forced exit ${code}`);
      },
    });
  return { run, opened, stdout: () => out.join(''), stderr: () => err.join(''), interrupt: () => interrupt?.() };
}

const GEN = ['generate', '--type', 'image_fast', '--prompt', 'a lighthouse at dusk'];

describe('generate: bad params', () => {
  it('exits 2 naming the flag and the range, before any engine is opened', async () => {
    const h = harness();
    expect(await h.run([...GEN, '--steps', '500'])).toBe(2);
    expect(h.stderr()).toBe('error: --steps: steps must be from 1 to 150 (got 500)\n');
    expect(h.opened).toEqual([]);
    expect(h.stdout()).toBe('');
  });

  it('applies the job type rules too (WAN sizes are multiples of 16)', async () => {
    const h = harness();
    expect(await h.run([...GEN, '--width', '488'])).toBe(2);
    expect(h.stderr()).toMatch(/--width: width must be a multiple of 16 for image_fast \(got 488\)/);
    expect(h.opened).toEqual([]);
  });

  it('with --json prints only the error document on stdout', async () => {
    const h = harness();
    expect(await h.run([...GEN, '--guidance', '31', '--json'])).toBe(2);
    expect(JSON.parse(h.stdout())).toEqual({
      error: { code: 'invalid_params', message: 'guidance must be from 0 to 30 (got 31)', field: 'guidance' },
    });
    expect(h.stderr()).toBe('');
  });
});

describe('generate: queue and wait', () => {
  it('without --wait queues as a client and returns at once', async () => {
    const engine = new FakeEngine({ role: 'client' });
    const h = harness(engine);
    expect(await h.run(GEN)).toBe(0);
    expect(h.opened).toEqual([{ role: 'client', frontDoor: 'cli' }]);
    expect(h.stdout()).toBe('queued job-1 (image_fast, position 1)\n');
    expect(engine.closed).toBe(true);
  });

  it.each<[Outcome, number, RegExp]>([
    ['done', 0, /done.*: 2 assets/],
    ['failed', 1, /failed \(oom\): out of GPU memory/],
  ])('--wait runs the job and exits by its outcome (%s → %i)', async (outcome, code, message) => {
    const engine = new FakeEngine({ outcome });
    const h = harness(engine);
    expect(await h.run([...GEN, '--wait'])).toBe(code);
    expect(h.opened[0]?.role).toBe('auto');
    expect(h.stderr()).toMatch(message);
    // Not a terminal: one line per stage, not one per step.
    expect(h.stderr().match(/running: denoise/g)).toHaveLength(1);
    if (outcome === 'done') expect(h.stdout()).toBe('asset-a\nasset-b\n');
  });

  it('--wait --json prints the final job as one JSON document', async () => {
    const h = harness(new FakeEngine());
    expect(await h.run([...GEN, '--wait', '--json'])).toBe(0);
    const doc = JSON.parse(h.stdout());
    expect(doc.status).toMatchObject({ state: 'done', assets: ['asset-a', 'asset-b'] });
    expect(doc.params.prompt).toBe('a lighthouse at dusk');
    expect(h.stderr()).toBe('');
  });

  it('Ctrl-C cancels the running job, waits for it to stop, and exits 130', async () => {
    const engine = new FakeEngine({ outcome: 'hold', steps: 10 });
    const h = harness(engine);
    engine.onStep = (step) => {
      if (step === 2) h.interrupt();
    };
    expect(await h.run([...GEN, '--wait'])).toBe(130);
    expect(engine.calls).toContain('jobs.cancel job-1');
    expect(engine.jobs.get('job-1')?.status.state).toBe('cancelled');
    expect(h.stderr()).toMatch(/cancelling: the job stops at its next step/);
    expect(engine.closed).toBe(true);
  });
});

describe('other commands', () => {
  it('jobs list --json prints a JSON array and nothing else', async () => {
    const engine = new FakeEngine({ role: 'client' });
    await engine.handlers['jobs.enqueue']({ request: { type: 'image_fast', prompt: 'x' } });
    const h = harness(engine);
    expect(await h.run(['jobs', 'list', '--json', '--state', 'queued,failed', '--limit', '5'])).toBe(0);
    const list = JSON.parse(h.stdout());
    expect(list.map((j: { id: string }) => j.id)).toEqual(['job-1']);
  });

  it('rejects an unknown --state before opening anything', async () => {
    const h = harness();
    expect(await h.run(['jobs', 'list', '--state', 'sleeping'])).toBe(2);
    expect(h.stderr()).toMatch(/--state must be one of queued, running, done, failed, cancelled \(got "sleeping"\)/);
  });

  it('an engine refusal exits 3 with its message', async () => {
    const h = harness(new FakeEngine({ role: 'client' }));
    expect(await h.run(['jobs', 'cancel', 'nope'])).toBe(3);
    expect(h.stderr()).toBe('error: no job with id nope\n');
    const j = harness(new FakeEngine({ role: 'client' }));
    expect(await j.run(['jobs', 'show', 'nope', '--json'])).toBe(3);
    expect(JSON.parse(j.stdout()).error.code).toBe('not_found');
  });

  it('queue pause and resume report the new state', async () => {
    const engine = new FakeEngine({ role: 'client' });
    const h = harness(engine);
    expect(await h.run(['queue', 'pause'])).toBe(0);
    expect(engine.paused).toBe(true);
    expect(await h.run(['queue', 'resume', '--json'])).toBe(0);
    expect(h.stdout()).toContain('queue paused: 0 queued, 0 running\n');
    expect(JSON.parse(h.stdout().split('\n').slice(1).join('\n'))).toEqual({ paused: false, queued: 0, running: 0 });
  });

  it('serve refuses a non-loopback --host before opening the engine', async () => {
    const h = harness();
    expect(await h.run(['serve', '--host', '0.0.0.0'])).toBe(2);
    expect(h.stderr()).toMatch(/--host must be a loopback address/);
    expect(h.opened).toEqual([]);
  });

  it('prints help and the version without an engine', async () => {
    const h = harness();
    expect(await h.run(['--help'])).toBe(0);
    expect(h.stdout()).toMatch(/Exit codes:\n {2}0 {4}ok/);
    expect(await h.run(['--version'])).toBe(0);
    expect(h.stdout()).toMatch(/\n\d+\.\d+\.\d+\n$/);
  });
});
