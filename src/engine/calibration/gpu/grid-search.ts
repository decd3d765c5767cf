/**
 * The 2-D grid search of q, kᵀ and v (ADFQ.md §2.3) in its histogram form on the GPU, equal to
 * gridSearchFromBins(binSummary(x, 65536, 'mean')): min/max (kernels/stats/min-max.ts), a 65,536-bin
 * histogram with exact per-bin sums (bin_sums), then all 100·L candidates scored over the non-empty
 * bins, one workgroup per candidate (grid_score). The bins are summarised on the host (counts exact,
 * means from the exact sums, rounded to f32 like the CPU's f64 means), the scores come back and
 * searchGrid picks the first strict minimum exactly as the CPU does.
 */
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { releaseTensor, uploadTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { binSums, binSumsInit, readBinSums } from '../../kernels/calib/bin-sums.ts';
import { gridScore } from '../../kernels/calib/grid-score.ts';
import { minMax, minMaxInit, readMinMax } from '../../kernels/stats/min-max.ts';
import { gridCandidates, searchGrid, type GridInit } from '../grid-search.ts';
import { HISTOGRAM_BINS, type BinSummary } from '../grid-search-histogram.ts';
import { levelsOf } from '../percentile-mse.ts';
import { tensorList, totalCount, type Tensors } from './inputs.ts';

/** binSummary(x, bins, 'mean') of all values of xs, from the GPU (throws like it on NaN, no values, a too narrow range). */
export async function gpuBinSummary(ctx: GpuContext, xs: Tensors, bins = HISTOGRAM_BINS): Promise<BinSummary> {
  const list = tensorList(xs), total = totalCount(list);
  if (total === 0) throw new UsageError('grid search: no values.');
  let encoder = ctx.device.createCommandEncoder({ label: 'grid_search.min_max' });
  const acc = ctx.pool.guard(() => minMaxInit(ctx, encoder));
  let found;
  try {
    for (const x of list) minMax(ctx, encoder, x, acc);
    ctx.pool.submit(encoder);
    found = await readMinMax(ctx, acc);
  } finally { releaseTensor(ctx, acc); }
  const { min: xMin, max: xMax, nans } = found;
  if (nans > 0) throw new UsageError('grid search: values contain NaN.');
  // A constant tensor has no range to bin: it is one bin holding every value (as binSummary).
  if (!(xMin < xMax)) return { values: Float32Array.of(xMin), counts: Float64Array.of(total), xMin, xMax };
  encoder = ctx.device.createCommandEncoder({ label: 'grid_search.bin_sums' });
  const sums = ctx.pool.guard(() => binSumsInit(ctx, encoder, { bins, lo: xMin, hi: xMax }));
  let read;
  try {
    for (const x of list) binSums(ctx, encoder, x, sums);
    ctx.pool.submit(encoder);
    read = await readBinSums(ctx, sums);
  } finally { releaseTensor(ctx, sums.acc); }
  const { counts, sums: s } = read;
  const keep: number[] = [];
  for (let b = 0; b < bins; b++) if (counts[b] > 0) keep.push(b);
  return {
    values: Float32Array.from(keep, (b) => s[b] / counts[b]),
    counts: Float64Array.from(keep, (b) => counts[b]),
    xMin, xMax,
  };
}

/** Σ count·|v − x̂|^2.4 / Σ count of every candidate of gridCandidates(xMin, xMax, bits), in its order. */
export async function gpuGridScores(ctx: GpuContext, s: BinSummary, bits: number): Promise<Float64Array> {
  const levels = levelsOf(bits), cands = gridCandidates(s.xMin, s.xMax, bits);
  const countWords = Uint32Array.from(s.counts);
  const cq = new Float32Array(cands.length * 2);
  cands.forEach((c, k) => { cq[2 * k] = c.delta; cq[2 * k + 1] = c.zeroPoint; });
  const encoder = ctx.device.createCommandEncoder({ label: 'grid_score' });
  const scores = ctx.pool.guard(() => {
    const values = uploadTensor(ctx, s.values, [s.values.length], 'grid_score.values');
    const counts: GpuTensor = { buffer: ctx.pool.upload(countWords, undefined, 'grid_score.counts'), shape: [countWords.length] };
    const ctensor = uploadTensor(ctx, cq, [cands.length, 2], 'grid_score.cands');
    const out = gridScore(ctx, encoder, values, counts, ctensor, levels);
    for (const t of [values, counts, ctensor]) releaseTensor(ctx, t);
    return out;
  });
  let pairs;
  try {
    ctx.pool.submit(encoder);
    pairs = await ctx.pool.read(scores.buffer, cands.length * 2);
  } finally { releaseTensor(ctx, scores); }
  let total = 0;
  for (const c of s.counts) total += c;
  return Float64Array.from(cands, (_, k) => (pairs[2 * k] + pairs[2 * k + 1]) / total);
}

/** The §2.3 grid search of all values of xs on 65,536 bins with bin means (= gridSearchHistogram(x, bits)). */
export async function gpuGridSearch(ctx: GpuContext, xs: Tensors, bits: number): Promise<GridInit> {
  levelsOf(bits);
  const summary = await gpuBinSummary(ctx, xs);
  const scores = await gpuGridScores(ctx, summary, bits);
  let k = 0;
  return searchGrid(summary.xMin, summary.xMax, bits, () => scores[k++]);
}
