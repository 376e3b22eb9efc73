import { afterEach, describe, expect, it, vi } from 'vitest';
import { GpuMonitor, type ExecFn } from '../../../src-main/engine/gpu/monitor.ts';

function errno(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`spawn nvidia-smi ${code}`), { code, ...extra });
}

/** An exec that answers from a list of outputs (or errors), recording its calls. */
function scripted(...answers: (string | Error)[]) {
  const calls: string[][] = [];
  const exec: ExecFn = async (file, args) => {
    calls.push([file, ...args]);
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { exec, calls };
}

const rtx4090 = (usedMb: number) => `0, NVIDIA GeForce RTX 4090, ${usedMb}, 24564, 35\n`;

afterEach(() => {
  vi.useRealTimers();
});

describe('GpuMonitor', () => {
  it('measures the GPU with nvidia-smi and budgets its memory less a reserve for the desktop', async () => {
    const { exec, calls } = scripted(rtx4090(1873));
    const m = new GpuMonitor({ configuredBudgetMb: 8192, exec });
    const snap = await m.sample();
    expect(calls[0]).toEqual([
      'nvidia-smi',
      '--query-gpu=index,name,memory.used,memory.total,utilization.gpu',
      '--format=csv,noheader,nounits',
    ]);
    expect(snap).toEqual({
      source: 'nvidia-smi',
      name: 'NVIDIA GeForce RTX 4090',
      memoryUsedMb: 1873,
      memoryTotalMb: 24564,
      utilizationPct: 35,
      budgetMb: 24564 - 2456,
      note: null,
    });
    expect(m.budgetMb()).toBe(22108);
  });

  it('keeps to a budget the user set, but never above what the GPU has', async () => {
    const small = new GpuMonitor({ configuredBudgetMb: 8192, budgetOverrideMb: 12000, exec: scripted(rtx4090(0)).exec });
    await small.sample();
    expect(small.budgetMb()).toBe(12000);
    const large = new GpuMonitor({ configuredBudgetMb: 8192, budgetOverrideMb: 48000, exec: scripted(rtx4090(0)).exec });
    await large.sample();
    expect(large.budgetMb()).toBe(24564);
  });

  it('without nvidia-smi, uses the configured budget, says so, and stops asking', async () => {
    const { exec, calls } = scripted(errno('ENOENT'));
    const m = new GpuMonitor({ configuredBudgetMb: 8192, exec });
    const snap = await m.sample();
    expect(snap).toMatchObject({ source: 'configured', name: null, memoryUsedMb: null, memoryTotalMb: 8192, budgetMb: 8192 });
    expect(snap.note).toMatch(/nvidia-smi was not found, so GPU memory is not measured/);
    expect(snap.note).toMatch(/configured budget of 8192 MB/);
    await m.sample();
    m.snapshot();
    expect(calls).toHaveLength(1);
  });

  it('finds out for real that a binary is missing', async () => {
    const m = new GpuMonitor({ configuredBudgetMb: 4096, binary: 'ourvidz-test-no-such-nvidia-smi' });
    expect((await m.sample()).note).toMatch(/^ourvidz-test-no-such-nvidia-smi was not found/);
  });

  it('reports a driver failure or a hang in the note and retries only after a pause', async () => {
    let now = 0;
    const driverDown = errno('ERR', {
      code: 9,
      stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      stderr: '',
    });
    const { exec, calls } = scripted(driverDown, errno('ETIMEDOUT', { killed: true, signal: 'SIGTERM' }), rtx4090(100));
    const m = new GpuMonitor({ configuredBudgetMb: 6144, exec, now: () => now, retryAfterMs: 30_000 });

    expect((await m.sample()).note).toMatch(/nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
    expect(m.budgetMb()).toBe(6144);
    now = 10_000;
    await m.sample();
    expect(calls).toHaveLength(1);
    now = 31_000;
    expect((await m.sample()).note).toMatch(/did not answer within 3 s/);
    now = 62_000;
    expect(await m.sample()).toMatchObject({ source: 'nvidia-smi', memoryUsedMb: 100, note: null });
  });

  it('uses the configured budget for a GPU that reports no memory size (unified memory)', async () => {
    const m = new GpuMonitor({ configuredBudgetMb: 16384, exec: scripted('0, NVIDIA GB10, [N/A], [N/A], 4\n').exec });
    const snap = await m.sample();
    expect(snap).toMatchObject({ source: 'nvidia-smi', name: 'NVIDIA GB10', memoryUsedMb: null, memoryTotalMb: 16384, budgetMb: 16384 });
    expect(snap.note).toMatch(/reports no dedicated memory size/);
  });

  it('watches the GPU it is told to on a multi-GPU machine, and says when that one is missing', async () => {
    const out = '0, NVIDIA GeForce RTX 3090, 695, 24576, 0\n1, NVIDIA RTX A4000, 4000, 16376, 12\n';
    const second = new GpuMonitor({ configuredBudgetMb: 8192, gpuIndex: 1, exec: scripted(out).exec });
    expect(await second.sample()).toMatchObject({ name: 'NVIDIA RTX A4000', memoryTotalMb: 16376, note: null });
    const missing = new GpuMonitor({ configuredBudgetMb: 8192, gpuIndex: 3, exec: scripted(out).exec });
    expect((await missing.sample()).note).toMatch(/GPU 3 was not found; showing GPU 0 \(NVIDIA GeForce RTX 3090\)/);
  });

  it("records each job's peak memory from samples taken while it ran", async () => {
    const { exec } = scripted(rtx4090(1000), rtx4090(9000), rtx4090(4000), rtx4090(2000));
    const m = new GpuMonitor({ configuredBudgetMb: 8192, exec });
    m.startJob('a'); // samples 1000
    await m.sample();
    m.startJob('b');
    await m.sample(); // 9000 seen by a and b
    await m.sample(); // 4000
    expect(m.endJob('a')).toBe(9000);
    await m.sample(); // 2000, b only
    expect(m.endJob('b')).toBe(9000);
    expect(m.endJob('never-started')).toBeNull();
  });

  it('has no peak without nvidia-smi', async () => {
    const m = new GpuMonitor({ configuredBudgetMb: 8192, exec: scripted(errno('ENOENT')).exec });
    m.startJob('a');
    await m.sample();
    expect(m.endJob('a')).toBeNull();
  });

  it('samples on an interval only while jobs run', async () => {
    vi.useFakeTimers();
    const { exec, calls } = scripted(rtx4090(500));
    const m = new GpuMonitor({ configuredBudgetMb: 8192, exec, intervalMs: 1000, now: () => Date.now() });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(0);
    m.startJob('a');
    await vi.advanceTimersByTimeAsync(5_000);
    const during = calls.length;
    expect(during).toBeGreaterThanOrEqual(5);
    m.endJob('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(during);
    m.stop();
  });

  it('refreshes a stale snapshot in the background when asked for one', async () => {
    let now = 0;
    const { exec, calls } = scripted(rtx4090(700), rtx4090(800));
    const m = new GpuMonitor({ configuredBudgetMb: 8192, exec, now: () => now, intervalMs: 1000 });
    expect(m.snapshot()).toMatchObject({ source: 'configured', note: 'GPU not measured yet.' });
    await m.sample(); // joins the query snapshot() started
    expect(calls).toHaveLength(1);
    expect(m.snapshot().memoryUsedMb).toBe(700);
    expect(calls).toHaveLength(1);
    now = 1500;
    m.snapshot();
    await m.sample();
    expect(m.snapshot().memoryUsedMb).toBe(800);
    expect(calls).toHaveLength(2);
  });
});
