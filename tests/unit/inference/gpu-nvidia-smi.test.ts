import { describe, expect, it } from 'vitest';
import { parseNvidiaSmiCsv } from '../../../src-main/engine/gpu/nvidia-smi.ts';

// Lines as nvidia-smi --query-gpu=index,name,memory.used,memory.total,utilization.gpu
// --format=csv,noheader,nounits prints them.
describe('parseNvidiaSmiCsv', () => {
  it('reads a single desktop GPU', () => {
    expect(parseNvidiaSmiCsv('0, NVIDIA GeForce RTX 4090, 1873, 24564, 7\n')).toEqual({
      gpus: [{ index: 0, name: 'NVIDIA GeForce RTX 4090', memoryUsedMb: 1873, memoryTotalMb: 24564, utilizationPct: 7 }],
      problems: [],
    });
  });

  it('reads every GPU of a multi-GPU machine, with Windows line endings', () => {
    const out = '0, NVIDIA GeForce RTX 3090, 695, 24576, 0\r\n1, Quadro P2000, 4000, 5120, 12\r\n';
    const { gpus } = parseNvidiaSmiCsv(out);
    expect(gpus.map((g) => [g.index, g.name, g.memoryUsedMb, g.memoryTotalMb, g.utilizationPct])).toEqual([
      [0, 'NVIDIA GeForce RTX 3090', 695, 24576, 0],
      [1, 'Quadro P2000', 4000, 5120, 12],
    ]);
  });

  it('turns [N/A] and [Not Supported] into null, never 0', () => {
    const { gpus } = parseNvidiaSmiCsv(
      ['0, NVIDIA GB10, [N/A], [N/A], 3', '1, NVIDIA A100-SXM4-40GB, 0, 40960, [N/A]', '2, NVIDIA GeForce GT 710, 301, 2048, [Not Supported]'].join('\n'),
    );
    expect(gpus[0]).toEqual({ index: 0, name: 'NVIDIA GB10', memoryUsedMb: null, memoryTotalMb: null, utilizationPct: 3 });
    expect(gpus[1]!.utilizationPct).toBeNull();
    expect(gpus[1]!.memoryUsedMb).toBe(0);
    expect(gpus[2]!.utilizationPct).toBeNull();
  });

  it('keeps a name that contains a comma whole', () => {
    expect(parseNvidiaSmiCsv('0, Acme GPU, Rev 2, 10, 100, 1').gpus[0]!.name).toBe('Acme GPU, Rev 2');
  });

  it('returns driver complaints as problems instead of GPUs', () => {
    const out = [
      'Unable to determine the device handle for GPU0000:01:00.0: GPU has fallen off the bus.',
      '0, NVIDIA GeForce RTX 3060, 512, 12288, 1',
      '',
    ].join('\n');
    const parsed = parseNvidiaSmiCsv(out);
    expect(parsed.gpus).toHaveLength(1);
    expect(parsed.problems).toEqual(['Unable to determine the device handle for GPU0000:01:00.0: GPU has fallen off the bus.']);
    expect(parseNvidiaSmiCsv('No devices were found\n')).toEqual({ gpus: [], problems: ['No devices were found'] });
    expect(
      parseNvidiaSmiCsv(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      ).gpus,
    ).toEqual([]);
  });

  it('rejects rows whose numbers are not numbers', () => {
    expect(parseNvidiaSmiCsv('x, GPU, 1, 2, 3').gpus).toEqual([]);
    expect(parseNvidiaSmiCsv('0, GPU, lots, 2, 3').problems).toEqual(['0, GPU, lots, 2, 3']);
  });
});
