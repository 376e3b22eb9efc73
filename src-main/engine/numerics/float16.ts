/**
 * IEEE 754 binary16 ⇄ float conversions (round to nearest even, as numpy's astype(float16)). Pure:
 * no onnxruntime import, so the test models' graph builder shares them with the pipelines.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of one float, rounded to nearest even (as numpy's astype(float16)). */
export function float32ToFloat16Bit(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) {
    // Inf stays Inf; NaN keeps a quiet NaN payload bit so it stays NaN.
    return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  }
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → ±Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflows to ±0
    // Subnormal half: shift the mantissa (with its implicit 1) into place, rounding to nearest even.
    mantissa |= 0x800000;
    const shift = 14 - e;
    const halfMantissa = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const round = remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1) ? 1 : 0;
    return sign | (halfMantissa + round);
  }
  const halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  let bits = sign | (e << 10) | halfMantissa;
  // Rounding up may carry into the exponent, which is exactly right (up to Inf).
  if (remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1) === 1)) bits += 1;
  return bits;
}

/** The float value of binary16 bits. */
export function float16BitToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** What is used here of the runtime's Float16Array. */
interface Float16View extends ArrayLike<number> {
  readonly buffer: ArrayBufferLike;
  set(values: ArrayLike<number>): void;
}
interface Float16ViewConstructor {
  new (length: number): Float16View;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Float16View;
}

/**
 * The runtime's Float16Array (Node 24, Electron 45), or null: its conversions run in native
 * code, 5–8× faster than the loops here, and round the same way (IEEE round-to-nearest-even;
 * tests/unit/inference/tensors.test.ts checks the scalar functions against it). NaN payloads
 * are the one difference, so arrays holding a NaN take the scalar loops.
 */
const NativeFloat16 = (globalThis as { Float16Array?: Float16ViewConstructor }).Float16Array ?? null;

/** Whether any of the binary16 values is a NaN (all-ones exponent, non-zero mantissa). */
function hasNaN16(bits: Uint16Array): boolean {
  // (h & 0x7fff) + 0x3ff reaches bit 15 exactly for NaNs; two halves at a time, no carry between
  let acc = 0;
  let i = 0;
  if (bits.byteOffset % 4 === 0) {
    const words = new Uint32Array(bits.buffer, bits.byteOffset, bits.length >>> 1);
    for (let w = 0; w < words.length; w++) acc |= (words[w]! & 0x7fff7fff) + 0x03ff03ff;
    i = words.length * 2;
  }
  for (; i < bits.length; i++) acc |= (bits[i]! & 0x7fff) + 0x3ff;
  return (acc & 0x80008000) !== 0;
}

export function float32ToFloat16Bits(values: ArrayLike<number>): Uint16Array {
  if (NativeFloat16 !== null && values instanceof Float32Array) {
    const half = new NativeFloat16(values.length);
    half.set(values);
    const bits = new Uint16Array(half.buffer);
    if (!hasNaN16(bits)) return bits;
  }
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bit(values[i]!);
  return out;
}

export function float16BitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  if (NativeFloat16 !== null && bits instanceof Uint16Array && !hasNaN16(bits)) {
    out.set(new NativeFloat16(bits.buffer, bits.byteOffset, bits.length));
    return out;
  }
  for (let i = 0; i < bits.length; i++) out[i] = float16BitToFloat32(bits[i]!);
  return out;
}
