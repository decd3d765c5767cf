/**
 * Percentiles read off an accumulated histogram: the rank p·(n−1) is located in its bin and placed
 * linearly inside it, so the value is exact to one bin width. (Exact quantiles, for calibration, use
 * kernels/stats/quantiles.ts, which needs the whole data set at once.)
 */
export interface HistogramCounts { lo: number; hi: number; counts: number[]; under: number; over: number }

export function percentilesFromHistogram(h: HistogramCounts, ps: number[]): { p: number; value: number }[] {
  const total = h.under + h.over + h.counts.reduce((a, b) => a + b, 0);
  const width = (h.hi - h.lo) / Math.max(h.counts.length, 1);
  return ps.map((p) => {
    if (total === 0 || h.counts.length === 0) return { p, value: NaN };
    const rank = p * (total - 1);
    let before = h.under;
    if (rank < before) return { p, value: h.lo };
    for (let b = 0; b < h.counts.length; b++) {
      const c = h.counts[b];
      if (rank < before + c) return { p, value: h.lo + (b + (rank - before + 0.5) / c) * width };
      before += c;
    }
    return { p, value: h.hi };
  });
}
