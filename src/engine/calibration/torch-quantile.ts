/**
 * torch.quantile(x, p, interpolation='linear') on float32 data, bit for bit (PyTorch 1.13 CPU), which the
 * ADFQ reference initialisation uses. It differs from reference/stats/quantile.ts (numpy-style, f64) by
 * up to a few f32 ulps, enough to move Δ by ~5e-6 relative: torch rounds p to f32, computes the rank in
 * f32 and interpolates with a float32 lerp that is one fused multiply-add.
 */
import { UsageError } from '../errors.ts';
import { f32, fmaF32 } from './f32.ts';

/** The level of the lower clip for percentile p: `1.0 − p` in Python (f64), before torch rounds it to f32. */
export const lowerLevel = (p: number): number => 1 - p;

/** All values as a new ascending Float32Array (NaNs are rejected: calibration data must be finite). */
export function sortedF32(values: ArrayLike<number>): Float32Array {
  const s = Float32Array.from(values as ArrayLike<number>);
  s.sort();
  if (s.length > 0 && Number.isNaN(s[s.length - 1])) throw new UsageError('calibration: values contain NaN.');
  return s;
}

/** torch.quantile of ascending f32 values at level p (a Python float, rounded to f32 here). */
export function torchQuantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new UsageError('quantile of an empty set of values.');
  if (!(p >= 0 && p <= 1)) throw new UsageError(`quantile: p must be in [0, 1], not ${p}.`);
  // torch multiplies by n − 1 as an f32 scalar. Above 2^24 values torch.quantile refuses the tensor and
  // the reference code falls back to np.percentile, which this function does not model (see README).
  const rank = f32(f32(p) * f32(n - 1));
  const below = Math.floor(rank), w = rank - below;  // w is exact in f32
  const lo = sorted[below], hi = sorted[Math.ceil(rank)];
  const d = f32(hi - lo);
  // at::lerp: w < 0.5 ? lo + w·d : hi − d·(1 − w), each as one f32 fma.
  return w < 0.5 ? fmaF32(lo, w, d) : fmaF32(hi, -d, f32(1 - w));
}
