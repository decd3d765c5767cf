/**
 * A 65,536-bin (or smaller) histogram with exact per-bin sums (shaders/calib/bin_sums.wgsl), the input
 * of the GPU grid search. Twin: calibration/grid-search-histogram.ts binSummary (representative 'mean').
 */
import src from '../../../../shaders/calib/bin_sums.wgsl?raw';
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { histogramScale } from '../../reference/stats/histogram.ts';
import { gridGroups, readU32, valueCount } from '../stats/grid.ts';

export const binSumsKernel = new Kernel({
  name: 'bin_sums',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'acc', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32'], ['bins', 'u32'], ['lo', 'f32'], ['hi', 'f32'], ['scale', 'f32'], ['qexp', 'i32']],
});

const WG = 256;
export const MAX_SUM_BINS = 65_536;

/** acc [bins·4] u32 (count, then the 96-bit sum of x/2^qexp) over [lo, hi]. */
export interface BinSumsAcc { acc: GpuTensor; bins: number; lo: number; hi: number; scale: number; qexp: number }
export interface BinSums { counts: Uint32Array; sums: Float64Array }

/** The exponent of the smallest power of two above every |x| ≤ max(|lo|, |hi|), minus 62 (see the shader). */
export function sumExponent(lo: number, hi: number): number {
  const m = Math.max(Math.abs(Math.fround(lo)), Math.abs(Math.fround(hi)));
  const bits = new Uint32Array(new Float32Array([m]).buffer)[0];
  const ex = (bits >>> 23) & 0xff;
  return (ex === 0 ? -126 : ex - 127 + 1) - 62;
}

/** Allocates and records a zeroed accumulator; throws UsageError like histogramScale on a bad range. */
export function binSumsInit(ctx: GpuContext, encoder: GPUCommandEncoder, spec: { bins: number; lo: number; hi: number }): BinSumsAcc {
  const { bins } = spec;
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_SUM_BINS) throw new UsageError(`bin_sums: bins must be an integer in 1..${MAX_SUM_BINS}, not ${bins}.`);
  const lo = Math.fround(spec.lo), hi = Math.fround(spec.hi), scale = histogramScale(bins, lo, hi);
  const acc = allocTensor(ctx, [bins * 4], 'bin_sums.acc');
  encoder.clearBuffer(acc.buffer, 0, bins * 16);
  return { acc, bins, lo, hi, scale, qexp: sumExponent(lo, hi) };
}

/** Records the counting and summing of every value of x (any shape) into a. */
export function binSums(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, a: BinSumsAcc): void {
  expectShape('bin_sums', 'acc', a.acc, [a.bins * 4]);
  const count = valueCount(x), groups = gridGroups(count, WG);
  binSumsKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [x.buffer, a.acc.buffer],
    params: { count, groups, bins: a.bins, lo: a.lo, hi: a.hi, scale: a.scale, qexp: a.qexp },
    workgroups: groups,
  });
}

/** Reads counts and sums (f64, each the exact 96-bit sum rounded once). */
export async function readBinSums(ctx: GpuContext, a: BinSumsAcc): Promise<BinSums> {
  const w = await readU32(ctx, a.acc, a.bins * 4);
  const counts = new Uint32Array(a.bins), sums = new Float64Array(a.bins), unit = 2 ** a.qexp;
  for (let b = 0; b < a.bins; b++) {
    counts[b] = w[4 * b];
    if (counts[b] === 0) continue;
    const big = BigInt.asIntN(96, (BigInt(w[4 * b + 3]) << 64n) | (BigInt(w[4 * b + 2]) << 32n) | BigInt(w[4 * b + 1]));
    sums[b] = Number(big) * unit;
  }
  return { counts, sums };
}
