/**
 * Exact order statistics and quantiles of activations that stay on the GPU: a two-pass radix select on
 * the monotonic u32 keys of the f32 values (radix-histogram.ts). Pass 1 counts the top 16 bits of every
 * key; a scan of the 64K counts on the CPU finds the digit holding each wanted rank; pass 2 counts the
 * low 16 bits among the keys with that top digit, which pins the exact value. Two passes over the data
 * whatever its distribution (heavy tails, ties, ±inf), and only 256 KiB per pass is read back.
 *
 * Data may span several tensors (one per batch): the statistics are over all their values, as if
 * concatenated. The tensors must already hold their data (their producers recorded and submitted);
 * these functions submit their own command buffers. NaNs are ignored; -0 orders before +0.
 */
import { InternalError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { quantileFrom, quantilePosition } from '../../reference/stats/quantile.ts';
import { keyToFloat, radixCountsInit, radixHistogram, RADIX_BINS, type RadixPass } from './radix-histogram.ts';
import { readU32 } from './grid.ts';

/** Digit counts of some passes over all tensors (one submit, one 256 KiB read-back per pass). */
async function digitCounts(ctx: GpuContext, xs: readonly GpuTensor[], passes: readonly RadixPass[]): Promise<Uint32Array[]> {
  const encoder = ctx.device.createCommandEncoder({ label: 'radix_select' });
  const counts = ctx.pool.guard(() => passes.map((pass) => {
    const c = radixCountsInit(ctx, encoder);
    for (const x of xs) radixHistogram(ctx, encoder, x, c, pass);
    return c;
  }));
  try {
    ctx.pool.submit(encoder);
    const out: Uint32Array[] = [];
    for (const c of counts) out.push(await readU32(ctx, c, RADIX_BINS));
    return out;
  } finally {
    for (const c of counts) releaseTensor(ctx, c);
  }
}

/** The digit whose cumulative count passes `rank`, and the rank within that digit. */
function findDigit(counts: Uint32Array, rank: number): { digit: number; rest: number } {
  let r = rank;
  for (let d = 0; d < counts.length; d++) {
    if (r < counts[d]) return { digit: d, rest: r };
    r -= counts[d];
  }
  throw new InternalError(`radix select: rank ${rank} beyond the ${rank - r} values counted`);
}

/**
 * Exact k-th smallest non-NaN values of all tensors together: `ranks(n)` names the 0-based ranks wanted
 * once the count n is known (after pass 1); returns n and rank → value. Counts are u32 per digit, so
 * at most 2^32 - 1 values may share a 16-bit digit.
 */
export async function gpuOrderStatistics(ctx: GpuContext, tensors: GpuTensor | readonly GpuTensor[],
                                         ranks: (n: number) => readonly number[]): Promise<{ n: number; values: Map<number, number> }> {
  const xs = Array.isArray(tensors) ? tensors : [tensors as GpuTensor];
  const [top] = await digitCounts(ctx, xs, [{}]);
  const n = top.reduce((s, c) => s + c, 0);
  const wanted = [...new Set(ranks(n))];
  const bad = wanted.find((k) => !(Number.isInteger(k) && k >= 0 && k < n));
  if (bad !== undefined) throw new UsageError(`order statistics: rank ${bad} is not in 0..${n - 1} (${n} non-NaN values).`);
  const byTop = new Map<number, { rank: number; rest: number }[]>();
  for (const rank of wanted) {
    const { digit, rest } = findDigit(top, rank);
    if (!byTop.has(digit)) byTop.set(digit, []);
    byTop.get(digit)!.push({ rank, rest });
  }
  const digits = [...byTop.keys()];
  const lows = await digitCounts(ctx, xs, digits.map((top) => ({ top })));
  const values = new Map<number, number>();
  digits.forEach((digit, i) => {
    for (const { rank, rest } of byTop.get(digit)!) values.set(rank, keyToFloat(((digit << 16) | findDigit(lows[i], rest).digit) >>> 0));
  });
  return { n, values };
}

/**
 * Quantiles p ∈ [0, 1] of all non-NaN values of `tensors`, numpy/torch 'linear' interpolation, equal
 * to quantilesRef (reference/stats/quantile.ts) bit for bit. NaN for each p when there is no value.
 */
export async function gpuQuantiles(ctx: GpuContext, tensors: GpuTensor | readonly GpuTensor[],
                                   ps: readonly number[]): Promise<number[]> {
  for (const p of ps) quantilePosition(1, p);  // throws UsageError on a bad p before any GPU work
  const { n, values } = await gpuOrderStatistics(ctx, tensors, (count) => (count === 0 ? [] : ps.flatMap((p) => {
    const q = quantilePosition(count, p);
    return [q.below, q.above];
  })));
  return ps.map((p) => quantileFrom(n, p, (k) => values.get(k)!));
}
