/** Equal-width histograms with under/overflow and NaN counters, accumulated on the GPU (shaders/stats/histogram.wgsl). */
import src from '../../../../shaders/stats/histogram.wgsl?raw';
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { histogramScale } from '../../reference/stats/histogram.ts';
import { gridGroups, readU32, valueCount } from './grid.ts';

export const histogramKernel = new Kernel({
  name: 'histogram',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'counts', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32'], ['bins', 'u32'], ['lo', 'f32'], ['hi', 'f32'], ['scale', 'f32']],
});

export const MAX_BINS = 65_536;
/** Bin counts (+ 3 counters) up to which workgroup-private bins are used (8 KiB of workgroup memory). */
const SHARED_BINS = 2048;

/** A histogram accumulator: counts [bins + 3] u32 (bins, then under, over, NaN) and its range. */
export interface HistogramAcc { counts: GpuTensor; bins: number; lo: number; hi: number }
export interface HistogramResult { counts: Uint32Array; under: number; over: number; nans: number }

/**
 * Allocates and records a zeroed histogram of `bins` equal bins over [lo, hi] (rounded to f32). Throws
 * UsageError unless 1 <= bins <= 65,536 and lo < hi with hi - lo finite in f32.
 */
export function histogramInit(ctx: GpuContext, encoder: GPUCommandEncoder,
                              spec: { bins: number; lo: number; hi: number }): HistogramAcc {
  const { bins } = spec;
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) throw new UsageError(`histogram: bins must be an integer in 1..${MAX_BINS}, not ${bins}.`);
  const lo = Math.fround(spec.lo), hi = Math.fround(spec.hi);
  histogramScale(bins, lo, hi);  // throws on a bad range
  const counts = allocTensor(ctx, [bins + 3], 'histogram.counts');
  encoder.clearBuffer(counts.buffer, 0, (bins + 3) * 4);
  return { counts, bins, lo, hi };
}

/** Records the counting of every value of x (any shape) into acc. */
export function histogram(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, acc: HistogramAcc,
                          options: { workgroupSize?: number; forceGlobal?: boolean } = {}): void {
  expectShape('histogram', 'counts', acc.counts, [acc.bins + 3]);
  const wg = options.workgroupSize ?? 256;
  const count = valueCount(x);
  const shared = !options.forceGlobal && acc.bins + 3 <= SHARED_BINS;
  // Each workgroup zeroes and flushes all its private bins: give it >= 8 values per bin to amortise that.
  const groups = shared ? Math.max(1, Math.min(gridGroups(count, wg), Math.floor(count / (8 * (acc.bins + 3))))) : gridGroups(count, wg);
  histogramKernel.run(ctx, encoder, {
    entry: shared ? 'shared_bins' : 'global_bins',
    overrides: shared ? { WG: wg, SHARED_BINS } : { WG: wg },
    buffers: [x.buffer, acc.counts.buffer],
    params: { count, groups, bins: acc.bins, lo: acc.lo, hi: acc.hi, scale: histogramScale(acc.bins, acc.lo, acc.hi) },
    workgroups: groups,
  });
}

export async function readHistogram(ctx: GpuContext, acc: HistogramAcc): Promise<HistogramResult> {
  const all = await readU32(ctx, acc.counts, acc.bins + 3);
  return { counts: all.slice(0, acc.bins), under: all[acc.bins], over: all[acc.bins + 1], nans: all[acc.bins + 2] };
}
