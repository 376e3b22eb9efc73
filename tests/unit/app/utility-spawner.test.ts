import { describe, expect, it, vi } from 'vitest';
import { createUtilitySpawner } from '../../../src-main/app/utility-spawner.ts';
import { MockUtilityProcessModule } from '../../helpers/electron-mock.ts';

function setup() {
  const utilityProcess = new MockUtilityProcessModule();
  const lines: string[] = [];
  const killByPid = vi.fn();
  const spawn = createUtilitySpawner({
    utilityProcess,
    log: { write: (text: string) => lines.push(text) },
    killByPid,
    now: () => new Date('2026-01-02T03:04:05.000Z'),
  });
  const channel = spawn('/app/out/main/worker.js', { env: { STUDIO_WORKER_ID: '3' }, args: ['--id', '3'] });
  const child = utilityProcess.forked[0]!;
  return { utilityProcess, lines, killByPid, channel, child };
}

describe('createUtilitySpawner', () => {
  it('forks the entry as a named utility process with the worker env, args and piped output', () => {
    const { child } = setup();
    expect(child.modulePath).toBe('/app/out/main/worker.js');
    expect(child.args).toEqual(['--id', '3']);
    expect(child.options.serviceName).toBe('OurVidz Studio inference');
    expect(child.options.stdio).toBe('pipe');
    // electron's Env type declares no keys; it is a plain string map at runtime.
    const env = child.options.env as Record<string, string | undefined>;
    expect(env.STUDIO_WORKER_ID).toBe('3');
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('reports the pid once the process has started', () => {
    const { channel, child } = setup();
    expect(channel.pid).toBeUndefined();
    child.spawned(4242);
    expect(channel.pid).toBe(4242);
  });

  it('sends structured-clone messages (bytes stay bytes) and delivers replies', () => {
    const { channel, child } = setup();
    channel.send({ type: 'run', data: new Uint8Array([1, 2, 3]) });
    expect(child.posted).toEqual([{ type: 'run', data: new Uint8Array([1, 2, 3]) }]);
    const received: unknown[] = [];
    channel.onMessage((m) => received.push(m));
    child.emit('message', { type: 'ready' });
    expect(received).toEqual([{ type: 'ready' }]);
  });

  it('reports the exit exactly once and ignores sends afterwards', () => {
    const { channel, child } = setup();
    const exits: unknown[] = [];
    channel.onExit((code, signal) => exits.push([code, signal]));
    child.exited(3);
    child.exited(3);
    channel.send({ type: 'late' });
    expect(exits).toEqual([[3, null]]);
    expect(child.posted).toEqual([]);
  });

  it.skipIf(process.platform === 'win32')('kills by pid with SIGKILL and reports the kill as that signal', () => {
    const { channel, child, killByPid } = setup();
    child.spawned(77);
    const exits: unknown[] = [];
    channel.onExit((code, signal) => exits.push([code, signal]));
    channel.kill();
    expect(killByPid).toHaveBeenCalledWith(77);
    child.exited(0);
    expect(exits).toEqual([[null, 'SIGKILL']]);
  });

  it('falls back to utilityProcess.kill() before the pid is known', () => {
    const { channel, child, killByPid } = setup();
    channel.kill();
    expect(killByPid).not.toHaveBeenCalled();
    expect(child.killCalls).toBe(1);
  });

  it('writes stdout and stderr to the log a whole line at a time, tagged with pid and stream', async () => {
    const { child, lines } = setup();
    child.spawned(9);
    child.stdout.write('loading unet');
    child.stdout.write(' (fp16)\nready\n');
    child.stderr.write('CUDA warning\r\n');
    child.stderr.end('trailing');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([
      '2026-01-02T03:04:05.000Z [worker 9 out] loading unet (fp16)\n',
      '2026-01-02T03:04:05.000Z [worker 9 out] ready\n',
      '2026-01-02T03:04:05.000Z [worker 9 err] CUDA warning\n',
      '2026-01-02T03:04:05.000Z [worker 9 err] trailing\n',
    ]);
  });
});
