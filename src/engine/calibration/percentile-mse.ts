/**
 * Percentile-MSE initialisation (ADFQ.md §2.2) as the reference code does it: for each p, clip to
 * torch.quantile levels, fake-quantize in f32, keep the smallest mean squared error (the first on ties,
 * since the reference replaces its best only on a strictly smaller score).
 */
import { UsageError } from '../errors.ts';
import { logSqrt2Fq, meanSquaredError, rangeToUniform, uniformFq } from './fake-quant-f32.ts';
import { lowerLevel, sortedF32, torchQuantile } from './torch-quantile.ts';

export const PERCENTILES: readonly number[] = [0.999, 0.9999, 0.99999];

export interface UniformCandidate { p: number; hi: number; lo: number; delta: number; zeroPoint: number; mse: number }
export interface UniformInit { delta: number; zeroPoint: number; chosenP: number; hi: number; lo: number; candidates: UniformCandidate[] }
export interface LogCandidate { p: number; delta: number; mse: number }
export interface LogInit { delta: number; chosenP: number; candidates: LogCandidate[] }

export function levelsOf(bits: number): number {
  if (!(Number.isInteger(bits) && bits >= 1 && bits <= 16)) throw new UsageError(`bits must be an integer in 1..16, not ${bits}.`);
  return 2 ** bits;
}

function firstBest<T extends { mse: number }>(candidates: T[]): T {
  let best = candidates[0];
  for (const c of candidates) if (c.mse < best.mse) best = c;
  return best;
}

/** Uniform asymmetric percentile-MSE over one set of values (a tensor, a weight column, a token). */
export function percentileMseUniform(values: ArrayLike<number>, bits: number, ps: readonly number[] = PERCENTILES): UniformInit {
  const levels = levelsOf(bits), sorted = sortedF32(values);
  const candidates = ps.map((p): UniformCandidate => {
    const hi = torchQuantile(sorted, p), lo = torchQuantile(sorted, lowerLevel(p));
    const { delta, zeroPoint } = rangeToUniform(lo, hi, levels);
    const mse = meanSquaredError(sorted, (x) => uniformFq(x, delta, zeroPoint, levels));
    return { p, hi, lo, delta, zeroPoint, mse };
  });
  const b = firstBest(candidates);
  return { delta: b.delta, zeroPoint: b.zeroPoint, chosenP: b.p, hi: b.hi, lo: b.lo, candidates };
}

/** log√2 percentile-MSE over non-negative values: the candidate Δ are the quantiles themselves. */
export function percentileMseLogSqrt2(values: ArrayLike<number>, bits: number, ps: readonly number[] = PERCENTILES): LogInit {
  const levels = levelsOf(bits), sorted = sortedF32(values);
  const candidates = ps.map((p): LogCandidate => {
    const delta = torchQuantile(sorted, p);
    return { p, delta, mse: meanSquaredError(sorted, (x) => logSqrt2Fq(x, delta, levels)) };
  });
  const b = firstBest(candidates);
  return { delta: b.delta, chosenP: b.p, candidates };
}
