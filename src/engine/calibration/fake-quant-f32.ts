/**
 * Minimal float32 fake quantizers used by the calibration searches, op for op as the ADFQ reference code
 * evaluates them (one f32 rounding per tensor op). The full quantizers live in reference/quant/; these
 * stay here so the searches do not depend on them.
 */
import { f32, roundHalfEven } from './f32.ts';

/** Uniform asymmetric: (clamp(round(x/Δ) + z, 0, L−1) − z)·Δ; z may lie outside [0, L−1]. */
export function uniformFq(x: number, delta: number, z: number, levels: number): number {
  const q = Math.min(Math.max(roundHalfEven(f32(x / delta)) + z, 0), levels - 1);
  return f32((q - z) * delta);
}

/** Δ = (hi − lo)/(L−1) and z = round(−lo/Δ) (not clamped), in f32, as the percentile-MSE init sets them. */
export function rangeToUniform(lo: number, hi: number, levels: number): { delta: number; zeroPoint: number } {
  const delta = f32(f32(hi - lo) / (levels - 1));
  return { delta, zeroPoint: roundHalfEven(f32(-lo / delta)) };
}

const SQRT2_F32 = f32(Math.SQRT2);

/**
 * log√2 code of x ≥ 0 for max step Δ: round(−2·log2(x/Δ)); L or more means the exact-zero code (x = 0
 * gives +∞ and lands there too). torch's f32 log2 is assumed correctly rounded (f64 log2, then f32).
 */
export function logSqrt2Code(x: number, delta: number, levels: number): number {
  const k = roundHalfEven(f32(-2 * f32(Math.log2(f32(x / delta)))));
  return k >= levels ? levels : Math.max(k, 0);
}

/** The level of code k: 2^(−ceil(k/2))·(k odd ? f32(√2) : 1)·Δ in f32 (the first product is exact); code L is 0. */
export function logSqrt2Level(k: number, delta: number, levels: number): number {
  if (k >= levels) return 0;
  return f32(2 ** -Math.ceil(k / 2) * (k % 2 === 1 ? SQRT2_F32 : 1) * delta);
}

export const logSqrt2Fq = (x: number, delta: number, levels: number): number =>
  logSqrt2Level(logSqrt2Code(x, delta, levels), delta, levels);

/** Mean of f32((a − b)²) accumulated in f64 (the reference means in f32; both choose alike per the vectors). */
export function meanSquaredError(x: ArrayLike<number>, fq: (v: number) => number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) { const d = f32(x[i] - fq(x[i])); s += f32(d * d); }
  return s / x.length;
}
