/**
 * MT19937, seeded and stepped exactly as PyTorch's CPU generator (`at::mt19937`).
 *
 * Source of the algorithm: aten/src/ATen/core/MT19937RNGEngine.h (PyTorch), which follows
 * Matsumoto & Nishimura's mt19937ar: `init_genrand` with the low 32 bits of the seed, the
 * whole-state twist on the first draw, and the standard tempering. Written here from those
 * definitions; no code copied.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Normalises a user seed the way `torch.Generator.manual_seed` does: an int wrapped to uint64. */
export function normalizeSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer or a bigint, got ${seed}`);
    }
    seed = BigInt(seed);
  }
  if (seed < -(1n << 63n) || seed >= 1n << 64n) {
    throw new RangeError(`seed ${seed} is outside the range torch accepts ([-2^63, 2^64))`);
  }
  return BigInt.asUintN(64, seed);
}

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  /** `seed` is taken modulo 2^32, as at::mt19937 does (`seed & 0xffffffff`). */
  constructor(seed: number | bigint) {
    const s = Number(normalizeSeed(seed) & 0xffffffffn);
    const mt = this.state;
    mt[0] = s;
    for (let j = 1; j < N; j++) {
      const prev = mt[j - 1]!;
      mt[j] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + j) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.state;
    let k = 0;
    for (; k < N - M; k++) {
      const y = (mt[k]! & UPPER_MASK) | (mt[k + 1]! & LOWER_MASK);
      mt[k] = mt[k + M]! ^ (y >>> 1) ^ (mt[k + 1]! & 1 ? MATRIX_A : 0);
    }
    for (; k < N - 1; k++) {
      const y = (mt[k]! & UPPER_MASK) | (mt[k + 1]! & LOWER_MASK);
      mt[k] = mt[k + M - N]! ^ (y >>> 1) ^ (mt[k + 1]! & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (mt[0]! & 1 ? MATRIX_A : 0);
    this.index = 0;
  }

  /** Next 32-bit output, as an unsigned number. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Discards `count` outputs (cheap: whole state blocks are twisted without tempering). */
  skip(count: number): void {
    let left = count;
    while (left > 0) {
      if (this.index >= N) this.twist();
      const take = Math.min(left, N - this.index);
      this.index += take;
      left -= take;
    }
  }

  /**
   * Fills `out[offset .. offset+count)` with `at::uniform_real_distribution<float>(0, 1)` draws:
   * the low 24 bits of one output times 2^-24 (TransformationHelper.h `uniform_real`).
   */
  fillUniformFloat(out: Float32Array, offset: number, count: number): void {
    const mt = this.state;
    let i = offset;
    const end = offset + count;
    while (i < end) {
      if (this.index >= N) this.twist();
      const stop = Math.min(end, i + (N - this.index));
      let idx = this.index;
      for (; i < stop; i++) {
        let y = mt[idx++]!;
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        out[i] = (y & 0xffffff) * 5.9604644775390625e-8; // exact: a 24-bit integer times 2^-24
      }
      this.index = idx;
    }
  }

  /**
   * One `at::uniform_real_distribution<double>(0, 1)` draw: `random64()` (first output in the
   * high word) masked to 53 bits, times 2^-53.
   */
  nextUniformDouble(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    // low 53 bits of (hi << 32 | lo) = (hi & 0x1fffff) * 2^32 + lo, exact in a double.
    return ((hi & 0x1fffff) * 4294967296 + lo) * 1.1102230246251565e-16;
  }
}
