/** CPU twin of kernels/matmul.ts: Y = X·W + b, then GELU or residual; sums in float64. */
import type { Epilogue } from '../kernels/matmul.ts';
import { geluErf, geluTanh } from './erf.ts';

export function matmulRef(x: Float32Array, w: Float32Array, bias: Float32Array, m: number, k: number, n: number,
                          epilogue: Epilogue = 'none', residual?: Float32Array): Float32Array {
  const y = new Float32Array(m * n);
  const row = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) row[c] = bias[c];
    for (let i = 0; i < k; i++) {
      const a = x[r * k + i];
      if (a === 0) continue;
      const wo = i * n;
      for (let c = 0; c < n; c++) row[c] += a * w[wo + c];
    }
    for (let c = 0; c < n; c++) {
      const v = row[c];
      y[r * n + c] = epilogue === 'gelu-erf' ? geluErf(v)
        : epilogue === 'gelu-tanh' ? geluTanh(v)
        : epilogue === 'residual' ? v + residual![r * n + c] : v;
    }
  }
  return y;
}
