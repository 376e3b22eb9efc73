import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Mt19937 } from '../../../src-main/engine/numerics/mt19937.ts';
import { torchRandn, torchRandnBatchItem } from '../../../src-main/engine/numerics/torch-randn.ts';

interface SmallCase {
  seed: string;
  shape: number[];
  bits: number[];
}
interface LargeCase {
  seed: string;
  shape: number[];
  indices: number[];
  bits: number[];
  sha256: string;
  itemSha256: string[];
}
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/randn.json', import.meta.url), 'utf8'),
) as { small: SmallCase[]; large: LargeCase[] };

const bitsOf = (values: Float32Array) => Array.from(new Int32Array(values.buffer, values.byteOffset, values.length));
const sha256 = (values: Float32Array) =>
  createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');

describe('Mt19937', () => {
  it('produces the standard mt19937 sequence for the default seed 5489', () => {
    const rng = new Mt19937(5489);
    expect(rng.nextUint32()).toBe(3499211612);
    rng.skip(9998);
    // C++ [rand.predef]: the 10000th output of a default-constructed std::mt19937
    expect(rng.nextUint32()).toBe(4123659995);
  });

  it('skip(n) lands where n draws would', () => {
    const a = new Mt19937(7);
    const b = new Mt19937(7);
    for (let i = 0; i < 1500; i++) a.nextUint32();
    b.skip(1500);
    expect(b.nextUint32()).toBe(a.nextUint32());
  });
});

describe('torchRandn matches torch.randn on a CPU generator bit for bit', () => {
  it.each(reference.small.map((c) => [c.seed, JSON.stringify(c.shape), c] as const))(
    'seed %s shape %s',
    (_seed, _shape, c) => {
      const got = torchRandn(c.shape, BigInt(c.seed));
      expect(got.length).toBe(c.bits.length);
      expect(bitsOf(got)).toEqual(c.bits);
    },
  );

  it.each(reference.large.map((c) => [c.seed, c] as const))('[6, 4, 128, 128] seed %s', (_seed, c) => {
    const got = torchRandn(c.shape, BigInt(c.seed));
    expect(c.indices.map((i) => bitsOf(got.subarray(i, i + 1))[0])).toEqual(c.bits);
    expect(sha256(got)).toBe(c.sha256);
  });

  it('draws [6, 4, 128, 128] in well under a second', () => {
    torchRandn([6, 4, 128, 128], 1); // warm up the JIT
    const start = performance.now();
    torchRandn([6, 4, 128, 128], 2);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('treats seeds as torch does: only the low 32 bits matter, negatives wrap', () => {
    expect(torchRandn([20], 2 ** 32 + 42)).toEqual(torchRandn([20], 42));
    expect(torchRandn([20], -1)).toEqual(torchRandn([20], 2n ** 64n - 1n));
    expect(torchRandn([3], 42n)).toEqual(torchRandn([3], 42));
  });

  it('rejects seeds and shapes torch would reject', () => {
    expect(() => torchRandn([4], 2n ** 64n)).toThrow(RangeError);
    expect(() => torchRandn([4], 0.5)).toThrow(RangeError);
    expect(() => torchRandn([4, -1], 0)).toThrow(RangeError);
  });

  it('returns an empty array for a zero-size shape', () => {
    expect(torchRandn([0, 4], 1).length).toBe(0);
  });
});

describe('torchRandnBatchItem', () => {
  it.each(reference.large.map((c) => [c.seed, c] as const))(
    'gives each image of a [6, 4, 128, 128] draw alone (seed %s)',
    (_seed, c) => {
      for (let i = 0; i < 6; i++) {
        expect(sha256(torchRandnBatchItem(c.shape, BigInt(c.seed), i))).toBe(c.itemSha256[i]);
      }
    },
  );

  it.each([
    [[3, 7]], // numel 21: the redrawn tail overlaps items 1 and 2
    [[5, 3, 3]], // blocks of 16 straddle item boundaries
    [[2, 5]], // numel < 16: the scalar path
    [[4, 16]],
    [[1, 33]],
  ])('equals the slice of the full draw for shape %j', (shape) => {
    const full = torchRandn(shape, 99);
    const per = full.length / shape[0]!;
    for (let i = 0; i < shape[0]!; i++) {
      expect(bitsOf(torchRandnBatchItem(shape, 99, i))).toEqual(bitsOf(full.subarray(i * per, (i + 1) * per)));
    }
  });

  it('rejects an index outside the batch', () => {
    expect(() => torchRandnBatchItem([6, 4, 8, 8], 1, 6)).toThrow(/outside \[0, 6\)/);
    expect(() => torchRandnBatchItem([6, 4, 8, 8], 1, -1)).toThrow(RangeError);
    expect(() => torchRandnBatchItem([], 1, 0)).toThrow(RangeError);
  });
});
