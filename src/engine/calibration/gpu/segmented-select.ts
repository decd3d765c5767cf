/**
 * Exact order statistics of many value sets at once on the GPU (PPOQ token positions, weight columns):
 * the driver of kernels/calib/segment-radix.ts. Four 8-bit-digit passes, each a `count` dispatch per
 * tensor and a `select_digit` dispatch, all in one submit; only the found keys come back. The sets may
 * span several tensors (batch chunks). NaNs are skipped and counted; PPOQ outliers (|x| > τ) take part
 * as +0 and are counted per segment.
 */
import { InternalError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { allocTensor, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { keyToFloat } from '../../kernels/stats/radix-histogram.ts';
import { readU32 } from '../../kernels/stats/grid.ts';
import { segmentRadixCount, segmentRadixSelect, SEGMENT_DIGITS, SEGMENT_PASSES, type SegmentSelect } from '../../kernels/calib/segment-radix.ts';
import { tauBits } from './inputs.ts';

export interface SegmentedSpec {
  /** Element i of each tensor is in segment floor(i / inner) % segments. */
  segments: number;
  inner: number;
  /** 0-based ranks wanted in every segment (each below the segment's value count). */
  ranks: readonly number[];
  /** PPOQ threshold: |x| > τ counts as +0. */
  tau?: number;
}

export interface SegmentedResult {
  /** [segments × ranks.length]: the value of rank ranks[r] in segment s at s·ranks.length + r. */
  values: Float32Array;
  /** PPOQ outliers per segment. */
  outliers: Uint32Array;
  nans: number;
}

export async function gpuSegmentedOrderStatistics(ctx: GpuContext, list: readonly GpuTensor[], spec: SegmentedSpec): Promise<SegmentedResult> {
  const { segments, inner, ranks } = spec, slots = ranks.length;
  if (!(Number.isInteger(segments) && segments >= 1 && Number.isInteger(inner) && inner >= 1)) throw new UsageError(`segmented select: bad segments ${segments} / inner ${inner}.`);
  if (slots < 1 || !ranks.every((k) => Number.isInteger(k) && k >= 0)) throw new UsageError('segmented select: give at least one rank, each a non-negative integer.');
  const init = new Uint32Array(segments * slots * 2);
  for (let j = 0; j < segments * slots; j++) init[2 * j + 1] = ranks[j % slots];
  const encoder = ctx.device.createCommandEncoder({ label: 'segment_radix' });
  // Everything recorded under one guard: a failure half-way releases what was acquired so far.
  const sel: SegmentSelect = ctx.pool.guard(() => {
    const s: SegmentSelect = {
      counts: allocTensor(ctx, [segments * slots * SEGMENT_DIGITS], 'segment_radix.counts'),
      state: { buffer: ctx.pool.upload(init, undefined, 'segment_radix.state'), shape: [segments * slots * 2] },
      tallies: allocTensor(ctx, [segments + 1], 'segment_radix.tallies'),
      segments, slots, inner, tauBits: tauBits(spec.tau),
    };
    encoder.clearBuffer(s.tallies.buffer, 0, (segments + 1) * 4);
    for (let pass = 0; pass < SEGMENT_PASSES; pass++) {
      encoder.clearBuffer(s.counts.buffer, 0, segments * slots * SEGMENT_DIGITS * 4);
      for (const x of list) segmentRadixCount(ctx, encoder, x, s, pass);
      segmentRadixSelect(ctx, encoder, list[0], s, pass);
    }
    return s;
  });
  let state: Uint32Array, tallies: Uint32Array;
  try {
    ctx.pool.submit(encoder);
    state = await readU32(ctx, sel.state, segments * slots * 2);
    tallies = await readU32(ctx, sel.tallies, segments + 1);
  } finally {
    for (const t of [sel.counts, sel.state, sel.tallies]) releaseTensor(ctx, t);
  }
  const nans = tallies[segments];
  const values = new Float32Array(segments * slots);
  for (let j = 0; j < segments * slots; j++) {
    if (state[2 * j + 1] === 0xffffffff && nans === 0) throw new InternalError(`segmented select: rank ${ranks[j % slots]} not found in segment ${Math.floor(j / slots)}.`);
    values[j] = keyToFloat(state[2 * j]);
  }
  return { values, outliers: tallies.slice(0, segments), nans };
}
