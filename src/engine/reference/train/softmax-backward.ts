/**
 * CPU twin of kernels/train/softmax-backward.ts, with the row softmax it differentiates; float64.
 *   forward:  P[r, :] = softmax(S[r, :]) (row max subtracted)
 *   backward: dS[r, j] = P[r, j] · (dP[r, j] − Σ_l dP[r, l]·P[r, l])
 */
export function softmaxRowsRef(s: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const p = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, s[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) { p[o + j] = Math.exp(s[o + j] - max); sum += p[o + j]; }
    for (let j = 0; j < cols; j++) p[o + j] /= sum;
  }
  return p;
}

/** dS of one row at `offset` (cols values) into `out`; dp and p are read at the same offset. */
export function softmaxBackwardRow(p: ArrayLike<number>, dp: ArrayLike<number>, offset: number, cols: number,
                                   out: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < cols; j++) dot += dp[offset + j] * p[offset + j];
  for (let j = 0; j < cols; j++) out[offset + j] = p[offset + j] * (dp[offset + j] - dot);
}

export function softmaxBackwardRef(p: ArrayLike<number>, dp: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const ds = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) softmaxBackwardRow(p, dp, r * cols, cols, ds);
  return ds;
}
