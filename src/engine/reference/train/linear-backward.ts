/**
 * CPU twin of kernels/train/linear-backward.ts: the gradients of Y[M,N] = X[M,K]·W[K,N] + b[N] (matmulRef),
 * W in the canonical [in, out] layout, given dY[M,N]; float64 throughout.
 *   dX = dY·Wᵀ,  dW = Xᵀ·dY (summed over the M rows),  db = Σ_rows dY.
 */
export interface LinearGradsRef { dx: Float64Array; dw: Float64Array; db: Float64Array }

export function linearBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>,
                                  m: number, k: number, n: number): LinearGradsRef {
  const dx = new Float64Array(m * k);
  const dw = new Float64Array(k * n);
  const db = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) db[c] += dy[r * n + c];
    for (let i = 0; i < k; i++) {
      const xi = x[r * k + i];
      let acc = 0;
      for (let c = 0; c < n; c++) {
        const g = dy[r * n + c];
        acc += g * w[i * n + c];
        dw[i * n + c] += xi * g;
      }
      dx[r * k + i] = acc;
    }
  }
  return { dx, dw, db };
}
