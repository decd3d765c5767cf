/**
 * Percentile-MSE per group on the GPU, equal to per-group.ts: PPOQ per token position (§3) and per
 * weight output column. Each group's quantiles come from one segmented exact radix select over all
 * groups at once (segmented-select.ts), interpolated on the host as torch.quantile does; the three
 * candidates of every group are scored by one segment_mse reduction. Degenerate groups follow the CPU:
 * Δ = 0 (an all-zero token, a constant column) gives NaN MSEs and the first p; a non-finite Δ (infinite
 * weights) is recomputed by the CPU twin on that group's read-back values.
 */
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { numel, type GpuTensor } from '../../gpu/tensor.ts';
import { rangeToUniform } from '../fake-quant-f32.ts';
import type { PpoqInit } from '../per-group.ts';
import { levelsOf, percentileMseUniform, PERCENTILES, type UniformCandidate, type UniformInit } from '../percentile-mse.ts';
import { lowerLevel } from '../torch-quantile.ts';
import { gpuCandidateSse, gpuScorable } from './candidate-mse.ts';
import { checkPs, firstBest, percentileRanks, readAll, tensorList, torchQuantileFrom, type Tensors } from './inputs.ts';
import { gpuSegmentedOrderStatistics } from './segmented-select.ts';

interface Groups { segments: number; inner: number; perSegment: number; tau?: number }

/** One UniformInit per segment, and the per-segment outlier counts. */
async function perSegment(ctx: GpuContext, list: readonly GpuTensor[], g: Groups, bits: number, ps: readonly number[]) {
  const levels = levelsOf(bits), n = g.perSegment;
  checkPs(ps);
  if (n === 0) throw new UsageError('quantile of an empty set of values.');
  const ranks = percentileRanks(n, ps), slot = new Map(ranks.map((k, r) => [k, r]));
  const sel = await gpuSegmentedOrderStatistics(ctx, list, { segments: g.segments, inner: g.inner, ranks, tau: g.tau });
  if (sel.nans > 0) throw new UsageError('calibration: values contain NaN.');
  const cands = Array.from({ length: g.segments }, (_, s) => {
    const at = (k: number) => sel.values[s * ranks.length + slot.get(k)!];
    return ps.map((p): UniformCandidate => {
      const hi = torchQuantileFrom(n, p, at), lo = torchQuantileFrom(n, lowerLevel(p), at);
      return { p, hi, lo, ...rangeToUniform(lo, hi, levels), mse: NaN };
    });
  });
  const flat = cands.flat();
  if (flat.some((c) => gpuScorable('uniform', c.delta, c.zeroPoint))) {
    const sse = await gpuCandidateSse(ctx, list, {
      segments: g.segments, inner: g.inner, mode: 'uniform', bits, ncand: ps.length, tau: g.tau,
      delta: flat.map((c) => c.delta), zero: flat.map((c) => c.zeroPoint),
    });
    flat.forEach((c, j) => { if (gpuScorable('uniform', c.delta, c.zeroPoint)) c.mse = sse[j] / n; });
  }
  // Δ = 0: NaN, as on the CPU (see percentile-mse.ts). Anything else unscorable: the CPU twin on the group.
  let all: Float32Array | null = null;
  const inits: UniformInit[] = [];
  for (let s = 0; s < g.segments; s++) {
    const cs = cands[s];
    if (!cs.every((c) => c.delta === 0 || gpuScorable('uniform', c.delta, c.zeroPoint))) {
      all ??= await readAll(ctx, list);
      inits.push(percentileMseUniform(segmentValues(all, g, s), bits, ps));
      continue;
    }
    const b = firstBest(cs);
    inits.push({ delta: b.delta, zeroPoint: b.zeroPoint, chosenP: b.p, hi: b.hi, lo: b.lo, candidates: cs });
  }
  return { inits, outliers: sel.outliers };
}

/** The values of segment s (PPOQ outliers as 0), in the CPU twins' order. */
function segmentValues(all: Float32Array, g: Groups, s: number): Float32Array {
  const out = new Float32Array(g.perSegment), t = g.tau === undefined ? Infinity : Math.fround(g.tau);
  let k = 0;
  for (let o = 0; o * g.segments * g.inner < all.length; o++) {
    for (let j = 0; j < g.inner; j++) {
      const v = all[(o * g.segments + s) * g.inner + j];
      out[k++] = Math.abs(v) > t ? 0 : v;
    }
  }
  return out;
}

/**
 * PPOQ per token position (= percentileMsePerToken): each tensor is [b_i, tokens, channels] (or any
 * shape with that many values, e.g. [b_i·tokens, channels]); the sets are X0[b, n, :] over all b of all
 * tensors, |X| > τ set to 0 and kept; outliers counted per token.
 */
export async function gpuPercentileMsePerToken(ctx: GpuContext, xs: Tensors, tokens: number, channels: number, tau: number,
                                               bits: number, ps: readonly number[] = PERCENTILES): Promise<PpoqInit> {
  const list = tensorList(xs);
  let batch = 0;
  for (const x of list) {
    const count = numel(x.shape);
    if (count % (tokens * channels) !== 0) throw new ShapeError(`PPOQ input: ${count} values are not a whole number of [${tokens}, ${channels}] samples.`);
    batch += count / (tokens * channels);
  }
  const { inits, outliers } = await perSegment(ctx, list, { segments: tokens, inner: channels, perSegment: batch * channels, tau }, bits, ps);
  const perToken = Array.from(outliers);
  return { tokens: inits, outlierCount: perToken.reduce((a, b) => a + b, 0), outlierCountPerToken: perToken };
}

/** One init per output column of a weight [rows, cols] (canonical [in, out]) (= percentileMsePerColumn). */
export async function gpuPercentileMsePerColumn(ctx: GpuContext, w: GpuTensor, rows: number, cols: number, bits: number,
                                                ps: readonly number[] = PERCENTILES): Promise<UniformInit[]> {
  if (numel(w.shape) !== rows * cols) throw new ShapeError(`per-channel weight: expected ${rows * cols} values, got ${numel(w.shape)}.`);
  return (await perSegment(ctx, [w], { segments: cols, inner: 1, perSegment: rows }, bits, ps)).inits;
}
