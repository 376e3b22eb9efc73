/**
 * `torch.randn(shape, generator=torch.Generator().manual_seed(seed))`, float32 on the CPU,
 * reproduced bit for bit, so that a seed gives the same starting noise here as in ComfyUI and
 * diffusers.
 *
 * How PyTorch draws it (read from aten/src/ATen/native/cpu/DistributionTemplates.h,
 * DistributionKernels.cpp, core/DistributionsHelper.h, core/TransformationHelper.h):
 *
 * - numel >= 16 (`normal_fill_AVX2`, the kernel x86 CPUs with AVX2 run; AVX-512 machines run it
 *   too because `normal_stub` is not registered for AVX-512):
 *   1. every element gets a uniform float `(u32 & 0xFFFFFF) * 2^-24`, one MT output each;
 *   2. each full block of 16 becomes 16 normals by Box-Muller, u1 = 1 - data[j], u2 = data[j+8]
 *      for j < 8, with the cephes-style single-precision `log256_ps` and `sincos256_ps` of
 *      avx_mathfun.h: data[j] = r·cos θ, data[j+8] = r·sin θ;
 *   3. if numel % 16 != 0, the LAST 16 elements are redrawn from 16 fresh uniforms and
 *      transformed again (overlapping the last full block).
 * - numel < 16: scalar `normal_distribution<double>` per element: u1, u2 each from two MT
 *   outputs (53 bits), r = sqrt(-2·log1p(-u2)), θ = 2π·u1; returns r·cos θ and caches r·sin θ
 *   for the next element; each result is cast to float.
 *
 * The x86 kernel is compiled by GCC with -mfma and the default -ffp-contract=fast, so a multiply
 * whose only use is an add is fused into one FMA. The polynomial steps below reproduce that
 * (see `fmaF32`); the reference fixtures (torch 1.13 and 2.6, GCC 12 and 14 builds) confirm it
 * bit for bit. Without the fused steps about 1% of values differ in the last bit, which is what
 * a build compiled without contraction (not verified; e.g. MSVC on Windows) would give.
 *
 * Not reproduced: torch builds whose normal kernel is the portable `normal_fill` (non-x86 CPUs,
 * e.g. Apple Silicon, or ATEN_CPU_CAPABILITY=default), which use libm logf/cos/sin and differ
 * from the x86 result in the last bits of about a third of the values.
 */

import { fmaF32 } from './float32.ts';
import { Mt19937, normalizeSeed } from './mt19937.ts';

const f = Math.fround;

// avx_mathfun.h constants, stored as float (`_PS256_CONST` initialises float arrays).
const SQRTHF = f(0.707106781186547524);
const LOG_P0 = f(7.0376836292e-2);
const LOG_P1 = f(-1.151461031e-1);
const LOG_P2 = f(1.167699874e-1);
const LOG_P3 = f(-1.2420140846e-1);
const LOG_P4 = f(1.4249322787e-1);
const LOG_P5 = f(-1.6668057665e-1);
const LOG_P6 = f(2.0000714765e-1);
const LOG_P7 = f(-2.4999993993e-1);
const LOG_P8 = f(3.3333331174e-1);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const SINCOF_P0 = f(-1.9515295891e-4);
const SINCOF_P1 = f(8.3321608736e-3);
const SINCOF_P2 = f(-1.6666654611e-1);
const COSCOF_P0 = f(2.443315711809948e-5);
const COSCOF_P1 = f(-1.388731625493765e-3);
const COSCOF_P2 = f(4.166664568298827e-2);
const FOPI = f(1.27323954473516);
const TWO_PI = f(2 * Math.PI);

/** SQRTHF·2³², an integer (SQRTHF is a float below 1): the mantissa test below in integers. */
const SQRTHF_U32 = SQRTHF * 4294967296;

/*
 * The steps marked "exact" below are FMAs whose unrounded a·b + c is exact in a double for every
 * input these functions can receive, so rounding the double once to float gives the FMA's result
 * and `fmaF32` is not needed there. The logarithm's Horner steps: m is a multiple of 2^-24 with
 * |m| < 0.42, and every y (and coefficient) lies in [0.08, 0.43] in magnitude, so y·m + p is a
 * multiple of 2^-51 below 1. The Cody–Waite steps: θ ≥ 2π·2^-24 and the q·DPk are short, so
 * each sum fits in 53 bits. Both were checked for all 2^24 possible uniforms u1 and u2, as was
 * the whole lane against the fmaF32-everywhere transcription (the same bits). The other steps
 * can round in the double sum, so they keep `fmaF32`.
 */

/**
 * `log256_ps` (cephes logf) for one lane of x = K·2^-24, K an integer in [1, 2^24]: x's
 * exponent and mantissa come from the integer, without reinterpreting the float's bits.
 */
function cephesLogScaled(K: number): number {
  const shift = Math.clz32(K); // 7 … 31
  const top = (K << shift) >>> 0; // K·2^shift in [2^31, 2^32): the mantissa's bits
  // frexp: x = m·2^e with m = top·2^-32 in [0.5, 1) and e = 8 − shift; when m < SQRTHF, cephes
  // takes e − 1 and 2m − 1, else m − 1 (both exact: the result is a float with the same bits)
  const low = ((top - SQRTHF_U32) | 0) >>> 31; // 1 when m < SQRTHF (top − SQRTHF_U32 fits an int32)
  const e = 8 - shift - low;
  const m = top * 2.3283064365386963e-10 * (1 + low) - 1;
  const z = f(m * m);
  let y = f(LOG_P0 * m + LOG_P1); // exact (see above)
  y = f(y * m + LOG_P2);
  y = f(y * m + LOG_P3);
  y = f(y * m + LOG_P4);
  y = f(y * m + LOG_P5);
  y = f(y * m + LOG_P6);
  y = f(y * m + LOG_P7);
  y = f(y * m + LOG_P8);
  y = f(y * m);
  y = fmaF32(y, z, f(e * LOG_Q1)); // y·z + e·q1, the first product fused
  y = f(y - z * 0.5); // z·0.5 is exact, so fused or not is the same
  return f(f(m + y) + e * LOG_Q2); // e·q2 is exact (q2 = 355/512)
}

/**
 * Writes 16 normals over 16 uniforms in place (`normal_fill_16_AVX2` with mean 0, std 1).
 * The signs are picked arithmetically, not by branches on the (random) data.
 */
function boxMuller16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    // u1 = 1 − data[at + j] = K·2^-24 (data holds multiples of 2^-24 in [0, 1); exact)
    const radius = f(Math.sqrt(-2 * cephesLogScaled(16777216 - data[at + j]! * 16777216))); // double sqrt then float: correctly rounded
    // sincos256_ps(theta), theta = 2π·u2 in [0, 2π): no sign handling needed.
    const u2 = data[at + j + 8]!;
    let x = f(TWO_PI * u2);
    const q = ((f(x * FOPI) | 0) + 1) & ~1; // 0, 2, 4, 6 or 8
    x = f(q * DP1 + x); // exact (see above)
    x = f(q * DP2 + x); // exact
    x = f(q * DP3 + x); // exact
    const z = f(x * x);
    let c = fmaF32(COSCOF_P0, z, COSCOF_P1);
    c = fmaF32(c, z, COSCOF_P2);
    c = f(c * z);
    c = fmaF32(c, z, -(z * 0.5));
    c = f(c + 1);
    let s = fmaF32(SINCOF_P0, z, SINCOF_P1);
    s = fmaF32(s, z, SINCOF_P2);
    s = f(s * z);
    s = fmaF32(s, x, x);
    // the polynomial for sin is sin θ when (q & 2) == 0, else cos θ; the signs from q's bit 2
    // (sin) and (q − 2)'s bit 2 (cos): multiplying by ±1 is exact, as the negation is
    const swap = (q & 2) !== 0;
    const sin = (swap ? c : s) * (1 - (q & 4) / 2);
    const cos = (swap ? s : c) * (((q - 2) & 4) / 2 - 1);
    // fmadd(n, std=1, mean=0): n + 0 (turns -0 into +0, as the hardware does)
    data[at + j] = f(radius * cos) + 0;
    data[at + j + 8] = f(radius * sin) + 0;
  }
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`bad dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  if (n > 0x7fffffff) throw new RangeError(`shape [${shape.join(', ')}] is too large to draw`);
  return n;
}

/** The scalar path (numel < 16): `normal_distribution<double>` with the cached second value. */
function randnSmall(numel: number, rng: Mt19937): Float32Array {
  const out = new Float32Array(numel);
  let cached: number | undefined;
  for (let i = 0; i < numel; i++) {
    if (cached !== undefined) {
      out[i] = cached;
      cached = undefined;
      continue;
    }
    const u1 = rng.nextUniformDouble();
    const u2 = rng.nextUniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    cached = r * Math.sin(theta);
    out[i] = r * Math.cos(theta);
  }
  return out;
}

/**
 * Elements [start, end) of the flattened draw of `numel` normals (numel >= 16), computing only
 * the blocks that cover the range.
 */
function randnRange(numel: number, rng: Mt19937, start: number, end: number): Float32Array {
  const out = new Float32Array(end - start);
  const fullEnd = numel - (numel % 16); // elements [0, fullEnd) come from full blocks…
  const tailStart = numel % 16 === 0 ? numel : numel - 16; // …unless the redrawn tail covers them
  const mainEnd = Math.min(end, tailStart);
  if (start < mainEnd) {
    const blockStart = start - (start % 16);
    const blockEnd = Math.min(fullEnd, Math.ceil(mainEnd / 16) * 16);
    const buf = blockStart === start && blockEnd === end ? out : new Float32Array(blockEnd - blockStart);
    rng.skip(blockStart);
    rng.fillUniformFloat(buf, 0, blockEnd - blockStart);
    for (let b = 0; b < buf.length; b += 16) boxMuller16(buf, b);
    if (buf !== out) out.set(buf.subarray(start - blockStart, mainEnd - blockStart), 0);
    rng.skip(numel - blockEnd);
  } else {
    rng.skip(numel);
  }
  if (end > tailStart) {
    const tail = new Float32Array(16);
    rng.fillUniformFloat(tail, 0, 16);
    boxMuller16(tail, 0);
    const from = Math.max(start, tailStart);
    out.set(tail.subarray(from - tailStart, end - tailStart), from - start);
  }
  return out;
}

/**
 * Same values as `torch.randn(shape, generator=torch.Generator().manual_seed(seed))` in float32
 * on an x86 CPU, flattened in row-major order. `seed` may be any integer torch accepts
 * (negative seeds wrap to uint64 as in torch; only the low 32 bits reach MT19937).
 */
export function torchRandn(shape: readonly number[], seed: number | bigint): Float32Array {
  const numel = numelOf(shape);
  const rng = new Mt19937(normalizeSeed(seed));
  if (numel < 16) return randnSmall(numel, rng);
  return randnRange(numel, rng, 0, numel);
}

/**
 * The noise for item `index` along the first dimension of the batch draw `torchRandn(shape,
 * seed)`, i.e. `torch.randn(shape, generator=...)[index]` flattened, computed without drawing
 * the other items. Lets one image of a batch be re-run alone with exactly its batch noise.
 */
export function torchRandnBatchItem(shape: readonly number[], seed: number | bigint, index: number): Float32Array {
  if (shape.length === 0) throw new RangeError('a batch shape needs at least one dimension');
  const batch = shape[0]!;
  const numel = numelOf(shape);
  if (!Number.isInteger(index) || index < 0 || index >= batch) {
    throw new RangeError(`batch index ${index} is outside [0, ${batch}) for shape [${shape.join(', ')}]`);
  }
  const itemNumel = numel / batch;
  const start = index * itemNumel;
  const rng = new Mt19937(normalizeSeed(seed));
  if (numel < 16) return randnSmall(numel, rng).slice(start, start + itemNumel);
  return randnRange(numel, rng, start, start + itemNumel);
}
