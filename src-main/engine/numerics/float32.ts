/**
 * Single-precision arithmetic helpers for reproducing PyTorch float32 results in JavaScript.
 * Every float32 operation is written as `Math.fround(a op b)`: for +, -, ×, ÷ and sqrt of float32
 * inputs, rounding the double result once more to float gives the correctly rounded float32
 * result (the double has more than 2·24 + 2 bits, so double rounding cannot go wrong; Figueroa,
 * "When is double rounding innocuous?", SIGNUM 1995).
 */

const f = Math.fround;

/**
 * Correctly rounded single-precision a·b + c for float32 inputs (what an FMA instruction, or a
 * compiler-contracted `a * b + c`, computes). a·b is exact in a double (24 + 24 bits); the sum
 * is rounded once to double and then to float, which is only wrong when the double sum lands
 * exactly halfway between two floats while the exact sum does not: the rounding error of the
 * sum (recovered with TwoSum, Knuth TAOCP vol. 2 §4.2.2) then says which way to go.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  const d = s - r;
  if (d === 0) return r;
  const other = r + 2 * d;
  if (f(other) !== other) return r; // s is not a halfway point, so rounding s rounds a·b + c
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r; // an exact tie: round-half-even already chose r
  return err > 0 === d > 0 ? other : r;
}

/** float32 square root (double sqrt rounded to float is correctly rounded, see above). */
export function sqrtF32(x: number): number {
  return f(Math.sqrt(x));
}
