/**
 * CPU twin of kernels/matmul.ts: Y = X·W + b, then GELU or residual; sums in float64. Y is float32 like the
 * GPU's unless `out` is given (a Float64Array keeps the whole computation in float64, which the finite
 * differences of the backward twins in reference/train/ need).
 */
import type { Epilogue } from '../kernels/matmul.ts';
import { geluErf, geluTanh } from './erf.ts';

export function matmulRef<T extends Float32Array | Float64Array = Float32Array>(
  x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, m: number, k: number, n: number,
  epilogue: Epilogue = 'none', residual?: ArrayLike<number>, out?: T): T {
  const y = out ?? (new Float32Array(m * n) as T);
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
