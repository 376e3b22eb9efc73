/**
 * `torch.linalg.solve(A, b)` for the tiny float32 systems of UniPC's higher orders (at most 3×3),
 * in torch's operation order, every operation rounded to float32.
 *
 * torch (aten/src/ATen/native/BatchLinearAlgebra.cpp, linalg_solve_ex_out) factors a contiguous
 * (row-major) A as Aᵀ — the same memory read column-major — and solves with
 * sgetrs(trans = 'T'); a non-contiguous A (UniPC's `R[:-1, :-1]`) is copied column-major,
 * factored as A and solved with trans = 'N'. sgetrf (reference LAPACK): partial pivoting on the
 * first largest |a|, the column below the pivot scaled by the pivot's reciprocal, rank-1
 * updates. sgetrs: 'N' permutes b, then L·y = b forward and U·x = y backward; 'T' solves
 * Uᵀ·w = b forward, Lᵀ·z = w backward, then undoes the interchanges in reverse (strsm loop order).
 */

const f = Math.fround;

export function solveF32(
  matrix: readonly (readonly number[])[],
  rhs: readonly number[],
  layout: 'contiguous' | 'strided' = 'contiguous',
): number[] {
  const n = rhs.length;
  if (matrix.length !== n || matrix.some((row) => row.length !== n)) {
    throw new RangeError(`solveF32 needs an ${n}×${n} matrix`);
  }
  const transposed = layout === 'contiguous';
  // what LAPACK factors: Aᵀ (lu[i][j] = A[j][i]) for a contiguous A, else A
  const lu = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => f(transposed ? matrix[j]![i]! : matrix[i]![j]!)),
  );
  const pivots: number[] = [];
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(lu[i]![k]!) > Math.abs(lu[p]![k]!)) p = i;
    if (lu[p]![k] === 0) throw new RangeError('solveF32: the matrix is singular');
    pivots.push(p);
    if (p !== k) [lu[p], lu[k]] = [lu[k]!, lu[p]!];
    const inv = f(1 / lu[k]![k]!);
    for (let i = k + 1; i < n; i++) {
      const l = f(lu[i]![k]! * inv);
      lu[i]![k] = l;
      for (let j = k + 1; j < n; j++) lu[i]![j] = f(lu[i]![j]! - f(l * lu[k]![j]!));
    }
  }
  const x = rhs.map(f);
  if (!transposed) {
    for (let k = 0; k < n; k++) if (pivots[k] !== k) [x[pivots[k]!], x[k]] = [x[k]!, x[pivots[k]!]!];
    for (let k = 0; k < n; k++) for (let i = k + 1; i < n; i++) x[i] = f(x[i]! - f(x[k]! * lu[i]![k]!));
    for (let k = n - 1; k >= 0; k--) {
      x[k] = f(x[k]! / lu[k]![k]!);
      for (let i = 0; i < k; i++) x[i] = f(x[i]! - f(x[k]! * lu[i]![k]!));
    }
    return x;
  }
  // Uᵀ·w = b (forward substitution)
  for (let i = 0; i < n; i++) {
    let t = x[i]!;
    for (let k = 0; k < i; k++) t = f(t - f(lu[k]![i]! * x[k]!));
    x[i] = f(t / lu[i]![i]!);
  }
  // Lᵀ·z = w (unit diagonal, backward substitution)
  for (let i = n - 1; i >= 0; i--) {
    let t = x[i]!;
    for (let k = i + 1; k < n; k++) t = f(t - f(lu[k]![i]! * x[k]!));
    x[i] = t;
  }
  // Pᵀ: undo the row interchanges in reverse order
  for (let i = n - 1; i >= 0; i--) {
    const p = pivots[i]!;
    if (p !== i) [x[p], x[i]] = [x[i]!, x[p]!];
  }
  return x;
}
