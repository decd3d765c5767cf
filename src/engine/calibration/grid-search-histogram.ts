/**
 * The grid search of grid-search.ts scored on a histogram of X instead of every value: each non-empty
 * bin stands for its `count` values at one representative value (the bin's mean, or its centre). The
 * exact search costs 100·L passes over ~10M values per tensor; this one costs 100·L passes over the
 * bins, and the GPU version builds the bins in one pass. The bin rule is reference/stats/histogram.ts's,
 * over [min X, max X], so a GPU histogram can feed `gridSearchFromBins` directly.
 */
import { binOf, histogramScale } from '../reference/stats/histogram.ts';
import { f32 } from './f32.ts';
import { uniformFq } from './fake-quant-f32.ts';
import { LP_NORM, minMax, searchGrid, type GridInit } from './grid-search.ts';
import { levelsOf } from './percentile-mse.ts';

export const HISTOGRAM_BINS = 65536;
/** 'mean' needs a per-bin sum besides the count; 'center' needs counts only (what the GPU histogram gives). */
export type BinRepresentative = 'mean' | 'center';

/** The non-empty bins: f32 representative values, their counts, and the data range. */
export interface BinSummary { values: Float32Array; counts: Float64Array; xMin: number; xMax: number }

export function binSummary(x: ArrayLike<number>, bins = HISTOGRAM_BINS, representative: BinRepresentative = 'mean'): BinSummary {
  const { xMin, xMax } = minMax(x);
  // A constant tensor has no range to bin: it is one bin holding every value.
  if (!(xMin < xMax)) return { values: Float32Array.of(xMin), counts: Float64Array.of(x.length), xMin, xMax };
  const scale = histogramScale(bins, xMin, xMax);
  const counts = new Float64Array(bins), sums = new Float64Array(bins);
  for (let i = 0; i < x.length; i++) {
    const b = binOf(x[i], bins, xMin, xMax, scale);
    counts[b]++;
    sums[b] += x[i];
  }
  const width = (xMax - xMin) / bins, keep: number[] = [];
  for (let b = 0; b < bins; b++) if (counts[b] > 0) keep.push(b);
  const values = Float32Array.from(keep, (b) => representative === 'mean' ? sums[b] / counts[b] : xMin + (b + 0.5) * width);
  return { values, counts: Float64Array.from(keep, (b) => counts[b]), xMin, xMax };
}

/** The grid search scored as Σ count·|v − v̂|^2.4 / Σ count over the bins' representatives. */
export function gridSearchFromBins(s: BinSummary, bits: number): GridInit {
  const levels = levelsOf(bits);
  let total = 0;
  for (const c of s.counts) total += c;
  return searchGrid(s.xMin, s.xMax, bits, ({ delta, zeroPoint }) => {
    let sum = 0;
    for (let k = 0; k < s.values.length; k++) {
      const v = s.values[k];
      sum += s.counts[k] * f32(Math.abs(f32(v - uniformFq(v, delta, zeroPoint, levels))) ** LP_NORM);
    }
    return sum / total;
  });
}

export function gridSearchHistogram(x: ArrayLike<number>, bits: number,
                                    opts: { bins?: number; representative?: BinRepresentative } = {}): GridInit {
  return gridSearchFromBins(binSummary(x, opts.bins ?? HISTOGRAM_BINS, opts.representative ?? 'mean'), bits);
}
