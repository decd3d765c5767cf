/**
 * CPU twin of kernels/stats/quantiles.ts, and the interpolation rule both share. Quantiles are over all
 * non-NaN values of all batches, ordered as Float32Array.sort orders them (-0 before +0), with numpy's
 * default 'linear' method (also torch.quantile's): pos = p·(n−1), then lerp between the values of rank
 * floor(pos) and ceil(pos). Computed in f64 and returned as f64. No values (empty or all NaN): NaN.
 */
import { UsageError } from '../../errors.ts';

export interface QuantilePosition { below: number; above: number; weight: number }

/** 0-based ranks around pos = p·(n−1) and the weight of the upper one. */
export function quantilePosition(n: number, p: number): QuantilePosition {
  if (!(p >= 0 && p <= 1)) throw new UsageError(`quantile: p must be in [0, 1], not ${p}.`);
  const pos = p * (n - 1);
  const below = Math.floor(pos);
  return { below, above: Math.min(below + 1, n - 1), weight: pos - below };
}

/** numpy's _lerp / torch.lerp: a + (b−a)·t for t < 0.5, b − (b−a)·(1−t) above (exact at both ends). */
export function lerpQuantile(a: number, b: number, t: number): number {
  // An exact rank or a tie is that value, so an infinite neighbour cannot turn it into inf·0 or inf − inf.
  if (t === 0 || a === b) return a;
  const d = b - a;
  return t < 0.5 ? a + d * t : b - d * (1 - t);
}

/** Quantile p of n sorted values given the two order statistics it needs. */
export function quantileFrom(n: number, p: number, valueAt: (rank: number) => number): number {
  if (n === 0) return NaN;
  const q = quantilePosition(n, p);
  return lerpQuantile(valueAt(q.below), valueAt(q.above), q.weight);
}

/** All non-NaN values of the batches, sorted ascending (-0 before +0). */
export function sortedValues(batches: readonly Float32Array[]): Float32Array {
  const total = batches.reduce((s, x) => s + x.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const x of batches) { all.set(x, o); o += x.length; }
  all.sort();  // numeric; NaNs last
  let n = total;
  while (n > 0 && Number.isNaN(all[n - 1])) n--;
  return all.subarray(0, n);
}

export function quantilesRef(batches: readonly Float32Array[], ps: readonly number[]): number[] {
  const s = sortedValues(batches);
  return ps.map((p) => quantileFrom(s.length, p, (k) => s[k]));
}
