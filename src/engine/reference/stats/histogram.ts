/**
 * CPU twins of kernels/stats/histogram.ts and count-above.ts, and the bin rule both sides share.
 * Every step is rounded to f32 with Math.fround, exactly like the shader's f32 arithmetic (f64 then f32
 * rounding of one +, -, × or ÷ equals the correctly rounded f32 result, since 53 >= 2·24 + 2).
 */
import { UsageError } from '../../errors.ts';

/** The f32 factor bins / (hi - lo) for f32 lo < hi; throws when the range is empty or overflows f32. */
export function histogramScale(bins: number, lo: number, hi: number): number {
  const width = Math.fround(Math.fround(hi) - Math.fround(lo));
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && width > 0 && Number.isFinite(width))) {
    throw new UsageError(`histogram: need finite lo < hi with hi - lo finite in f32 (got lo ${lo}, hi ${hi}).`);
  }
  const scale = Math.fround(bins / width);
  if (!Number.isFinite(scale)) throw new UsageError(`histogram: range [${lo}, ${hi}] is too narrow for ${bins} f32 bins.`);
  return scale;
}

/**
 * The bin of x: `bins + 2` NaN, `bins` below lo, `bins + 1` above hi, else
 * min(floor((x - lo) · scale), bins - 1) in f32 (x == hi lands in the last bin).
 */
export function binOf(x: number, bins: number, lo: number, hi: number, scale: number): number {
  if (Number.isNaN(x)) return bins + 2;
  if (x < lo) return bins;
  if (x > hi) return bins + 1;
  return Math.min(Math.floor(Math.fround(Math.fround(x - lo) * scale)), bins - 1);
}

export interface HistogramRef { counts: Uint32Array; under: number; over: number; nans: number }

export function histogramRef(batches: readonly Float32Array[], spec: { bins: number; lo: number; hi: number }): HistogramRef {
  const { bins } = spec;
  const lo = Math.fround(spec.lo), hi = Math.fround(spec.hi), scale = histogramScale(bins, lo, hi);
  const all = new Uint32Array(bins + 3);
  for (const x of batches) for (const v of x) all[binOf(v, bins, lo, hi, scale)]++;
  return { counts: all.slice(0, bins), under: all[bins], over: all[bins + 1], nans: all[bins + 2] };
}

/** #{ |x| > fround(t) } per threshold over all batches; NaNs never count. */
export function countAboveRef(batches: readonly Float32Array[], thresholds: readonly number[]): number[] {
  const ts = thresholds.map((t) => Math.fround(t));
  const n = ts.map(() => 0);
  for (const x of batches) for (const v of x) ts.forEach((t, j) => { if (Math.abs(v) > t) n[j]++; });
  return n;
}
