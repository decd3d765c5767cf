/** CPU twin of kernels/layer-norm.ts: two-pass mean and variance in float64. */
export function layerNormRef(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number,
                             eps: number): Float32Array {
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += x[o + c];
    mean /= cols;
    let variance = 0;
    for (let c = 0; c < cols; c++) variance += (x[o + c] - mean) ** 2;
    variance /= cols;
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < cols; c++) y[o + c] = (x[o + c] - mean) * rstd * gamma[c] + beta[c];
  }
  return y;
}
