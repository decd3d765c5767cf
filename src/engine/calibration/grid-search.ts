/**
 * The 2-D grid search for q, kᵀ and v (ADFQ.md §2.3), op for op as the reference UniformAffineQuantizer:
 * 100 range sizes × L zero points on two-sided data, 100 thresholds on one-sided data, score
 * mean |X − X̂|^2.4, the first strict minimum wins. The candidate list is shared with the histogram form.
 */
import { UsageError } from '../errors.ts';
import { f32, roundHalfEven } from './f32.ts';
import { uniformFq } from './fake-quant-f32.ts';
import { levelsOf } from './percentile-mse.ts';

export const GRID_STEPS = 100;
export const LP_NORM = 2.4;
const MIN_DELTA = f32(1e-8);

export type Side = 'two-sided' | 'positive' | 'negative';
/** One candidate range with its quantizer; `index` is [i, zp] (two-sided) or [i] (one-sided), i from 1. */
export interface GridCandidate { index: number[]; lo: number; hi: number; delta: number; zeroPoint: number }
export interface GridInit {
  side: Side; delta: number; zeroPoint: number; bestMin: number; bestMax: number;
  score: number; winningIndex: number[]; xMin: number; xMax: number;
}

/** calculate_qparams: Δ = max((max(hi,0) − min(lo,0))/(L−1), 1e-8), z = clamp(−round(min(lo,0)/Δ), 0, L−1). */
export function rangeToAffine(lo: number, hi: number, levels: number): { delta: number; zeroPoint: number } {
  const minNeg = Math.min(lo, 0), maxPos = Math.max(hi, 0);
  const delta = Math.max(f32(f32(maxPos - minNeg) / (levels - 1)), MIN_DELTA);
  const zeroPoint = Math.min(Math.max(0 - roundHalfEven(f32(minNeg / delta)), 0), levels - 1);
  return { delta, zeroPoint };
}

export function sideOf(xMin: number, xMax: number): Side {
  return xMin >= 0 ? 'positive' : xMax <= 0 ? 'negative' : 'two-sided';
}

/** Every candidate in the reference's order (outer i, inner zp), in f32 as torch computes them. */
export function gridCandidates(xMin: number, xMax: number, bits: number, steps = GRID_STEPS): GridCandidate[] {
  const levels = levelsOf(bits), side = sideOf(xMin, xMax), out: GridCandidate[] = [];
  const push = (index: number[], lo: number, hi: number) => out.push({ index, lo, hi, ...rangeToAffine(lo, hi, levels) });
  if (side === 'two-sided') {
    const step = f32(f32(xMax - xMin) / steps);
    for (let i = 1; i <= steps; i++) {
      const t = f32(step * i), d = f32(t / (levels - 1));
      for (let zp = 0; zp < levels; zp++) { const s = f32(zp * d); push([i, zp], 0 - s, f32(t - s)); }
    }
  } else {
    const step = f32(Math.max(Math.abs(xMin), xMax) / steps);
    for (let i = 1; i <= steps; i++) {
      const t = f32(step * i);
      if (side === 'positive') push([i], 0, t); else push([i], -t, 0);
    }
  }
  return out;
}

export function minMax(x: ArrayLike<number>): { xMin: number; xMax: number } {
  if (x.length === 0) throw new UsageError('grid search: no values.');
  let xMin = Infinity, xMax = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) throw new UsageError('grid search: values contain NaN.');
    if (v < xMin) xMin = v;
    if (v > xMax) xMax = v;
  }
  return { xMin, xMax };
}

/**
 * Runs a search given a scorer (the exact one below, or the histogram one): keeps the first candidate
 * whose score is strictly below the best so far, like `torch.where(score < best_score, …)`.
 */
export function searchGrid(xMin: number, xMax: number, bits: number, score: (c: GridCandidate) => number): GridInit {
  const levels = levelsOf(bits);
  let best: GridCandidate | null = null, bestScore = 1e10;
  for (const c of gridCandidates(xMin, xMax, bits)) {
    const s = score(c);
    if (s < bestScore) { bestScore = s; best = c; }
  }
  if (best === null) throw new UsageError('grid search: every candidate scored NaN or ≥ 1e10.');
  return {
    side: sideOf(xMin, xMax), ...rangeToAffine(best.lo, best.hi, levels), bestMin: best.lo, bestMax: best.hi,
    score: bestScore, winningIndex: best.index, xMin, xMax,
  };
}

/** Exact search: the score of each candidate is mean f32(|x − x̂|)^2.4 over every value, summed in f64. */
export function gridSearch(x: ArrayLike<number>, bits: number): GridInit {
  const { xMin, xMax } = minMax(x), levels = levelsOf(bits);
  return searchGrid(xMin, xMax, bits, ({ delta, zeroPoint }) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += f32(Math.abs(f32(x[i] - uniformFq(x[i], delta, zeroPoint, levels))) ** LP_NORM);
    return s / x.length;
  });
}
