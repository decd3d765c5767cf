/**
 * Percentile-MSE initialisations (ADFQ.md §2.2, §2.4, §4) on data that stays on the GPU, equal to their
 * CPU twins in percentile-mse.ts: the quantiles are exact order statistics (kernels/stats/quantiles.ts)
 * interpolated on the host with torch.quantile's f32 arithmetic, so hi, lo, Δ and z are bit-identical;
 * each candidate's MSE is a GPU reduction with the CPU's f32 fake quantizer (f32 partial sums over
 * ≤ 2,048 values, added in f64). A candidate the kernel cannot score exactly (non-finite Δ from
 * infinite data, log Δ ≤ 0) sends the whole search to the CPU twin on read-back values.
 */
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { slqShift } from '../../kernels/calib/slq-shift.ts';
import { gpuOrderStatistics } from '../../kernels/stats/quantiles.ts';
import { rangeToUniform } from '../fake-quant-f32.ts';
import { SLQ_EPS } from '../per-group.ts';
import {
  levelsOf, percentileMseLogSqrt2, percentileMseUniform, PERCENTILES, type LogCandidate, type LogInit, type UniformCandidate,
  type UniformInit,
} from '../percentile-mse.ts';
import { lowerLevel } from '../torch-quantile.ts';
import { gpuCandidateSse, gpuScorable } from './candidate-mse.ts';
import { checkPs, firstBest, percentileRanks, readAll, tensorList, torchQuantileFrom, totalCount, type Tensors } from './inputs.ts';

/** Exact order statistics of all values at the ranks the quantiles need; throws like sortedF32 on NaN. */
async function orderStatistics(ctx: GpuContext, xs: Tensors, ps: readonly number[], extra: number[] = []) {
  const list = tensorList(xs), total = totalCount(list);
  const { n, values } = await gpuOrderStatistics(ctx, list, (count) => (count === total && count > 0 ? percentileRanks(count, ps, extra) : []));
  if (n !== total) throw new UsageError('calibration: values contain NaN.');
  if (n === 0) throw new UsageError('quantile of an empty set of values.');
  return { list, n, at: (k: number) => values.get(k)! };
}

/** Uniform asymmetric percentile-MSE over all values of xs (one set), = percentileMseUniform. */
export async function gpuPercentileMseUniform(ctx: GpuContext, xs: Tensors, bits: number,
                                              ps: readonly number[] = PERCENTILES): Promise<UniformInit> {
  const levels = levelsOf(bits);
  checkPs(ps);
  const { list, n, at } = await orderStatistics(ctx, xs, ps);
  const candidates = ps.map((p): UniformCandidate => {
    const hi = torchQuantileFrom(n, p, at), lo = torchQuantileFrom(n, lowerLevel(p), at);
    return { p, hi, lo, ...rangeToUniform(lo, hi, levels), mse: NaN };
  });
  // Δ = 0 makes every fake-quantized value NaN on the CPU (x/0, then ∞·0 or NaN): its MSE is NaN.
  if (!candidates.every((c) => c.delta === 0 || gpuScorable('uniform', c.delta, c.zeroPoint))) {
    return percentileMseUniform(await readAll(ctx, list), bits, ps);
  }
  if (candidates.some((c) => c.delta !== 0)) {
    const sse = await gpuCandidateSse(ctx, list, {
      segments: 1, inner: 1, mode: 'uniform', bits, ncand: ps.length,
      delta: candidates.map((c) => c.delta), zero: candidates.map((c) => c.zeroPoint),
    });
    candidates.forEach((c, k) => { if (c.delta !== 0) c.mse = sse[k] / n; });
  }
  const b = firstBest(candidates);
  return { delta: b.delta, zeroPoint: b.zeroPoint, chosenP: b.p, hi: b.hi, lo: b.lo, candidates };
}

/** log√2 percentile-MSE over non-negative values (Δ = the quantile itself), = percentileMseLogSqrt2. */
export async function gpuPercentileMseLogSqrt2(ctx: GpuContext, xs: Tensors, bits: number,
                                               ps: readonly number[] = PERCENTILES): Promise<LogInit> {
  levelsOf(bits);
  checkPs(ps);
  const { list, n, at } = await orderStatistics(ctx, xs, ps, [0]);
  const candidates = ps.map((p): LogCandidate => ({ p, delta: torchQuantileFrom(n, p, at), mse: NaN }));
  if (!candidates.every((c) => gpuScorable('log', c.delta))) return percentileMseLogSqrt2(await readAll(ctx, list), bits, ps);
  // A negative value has no log√2 code (log2 of a negative ratio): the CPU's MSE is NaN for every Δ > 0.
  if (!(at(0) < 0)) {
    const sse = await gpuCandidateSse(ctx, list, { segments: 1, inner: 1, mode: 'log', bits, ncand: ps.length, delta: candidates.map((c) => c.delta) });
    candidates.forEach((c, k) => { c.mse = sse[k] / n; });
  }
  const b = firstBest(candidates);
  return { delta: b.delta, chosenP: b.p, candidates };
}

/**
 * SLQ with a constant shift m (quant/search-backend.ts cpuSearch.slqConst): S = f32(f32(x − m) + SLQ_EPS) with m a
 * JavaScript number (kernels/calib/slq-shift.ts reproduces the f64 subtraction), Δ by log√2
 * percentile-MSE on S. S is materialised in one temporary buffer per tensor.
 */
export async function gpuPercentileMseSlqConst(ctx: GpuContext, xs: Tensors, bits: number, shift: number,
                                               ps: readonly number[] = PERCENTILES): Promise<LogInit> {
  levelsOf(bits);
  checkPs(ps);
  const encoder = ctx.device.createCommandEncoder({ label: 'slq_shift' });
  const shifted: GpuTensor[] = [];
  try {
    for (const x of tensorList(xs)) shifted.push(ctx.pool.guard(() => slqShift(ctx, encoder, x, shift, SLQ_EPS)));
    ctx.pool.submit(encoder);
    return await gpuPercentileMseLogSqrt2(ctx, shifted, bits, ps);
  } finally {
    for (const s of shifted) releaseTensor(ctx, s);
  }
}
