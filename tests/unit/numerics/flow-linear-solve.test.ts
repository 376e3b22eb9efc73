import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solveF32 } from '../../../src-main/engine/numerics/flow/linear-solve.ts';

interface Solve {
  contiguous: boolean;
  a: number[];
  b: number[];
  x: number[];
}
const { solves } = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/flow/schedulers.json', import.meta.url), 'utf8'),
) as { solves: Solve[] };

const fromBits = (bits: readonly number[]) => Array.from(new Float32Array(Int32Array.from(bits).buffer));
const toBits = (values: readonly number[]) => Array.from(new Int32Array(Float32Array.from(values).buffer));

describe('solveF32', () => {
  it.each(solves.map((s, i) => [i, s.b.length, s.b.length, s.contiguous ? 'contiguous' : 'strided', s] as const))(
    'reproduces torch.linalg.solve bit for bit: UniPC order-3 system %i (%i×%i, %s)',
    (_i, n, _n, _layout, s) => {
      const flat = fromBits(s.a);
      const matrix = Array.from({ length: n }, (_, r) => flat.slice(r * n, (r + 1) * n));
      expect(toBits(solveF32(matrix, fromBits(s.b), s.contiguous ? 'contiguous' : 'strided'))).toEqual(s.x);
    },
  );

  it('the reference covers both of torch’s factorization layouts', () => {
    expect(new Set(solves.map((s) => s.contiguous))).toEqual(new Set([true, false]));
    expect(new Set(solves.map((s) => s.b.length))).toEqual(new Set([2, 3]));
  });

  it('solves a permuted system exactly and refuses a singular one', () => {
    expect(solveF32([[0, 2], [4, 0]], [6, 8])).toEqual([2, 3]);
    expect(solveF32([[0, 2], [4, 0]], [6, 8], 'strided')).toEqual([2, 3]);
    expect(() => solveF32([[1, 2], [2, 4]], [1, 1])).toThrow(/singular/);
    expect(() => solveF32([[1, 2]], [1, 1])).toThrow(/2×2/);
  });
});
