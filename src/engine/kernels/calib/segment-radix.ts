/**
 * One pass of the segmented exact radix select (shaders/calib/segment_radix.wgsl): many value sets at
 * once (PPOQ token positions, weight columns), several ranks each, 8-bit digits, four passes.
 * calibration/gpu/segmented-select.ts drives it; twin: sort each segment (reference/stats/quantile.ts).
 */
import src from '../../../../shaders/calib/segment_radix.wgsl?raw';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { gridGroups, valueCount } from '../stats/grid.ts';

export const segmentRadixKernel = new Kernel({
  name: 'segment_radix',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'counts', kind: 'read_write' }, { name: 'state', kind: 'read_write' },
    { name: 'tallies', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32'], ['inner', 'u32'], ['segments', 'u32'], ['slots', 'u32'],
    ['pass_slots', 'u32'], ['shift', 'u32'], ['mask', 'u32'], ['tau_bits', 'i32'], ['tally', 'u32']],
});

export const SEGMENT_DIGITS = 256;
export const SEGMENT_PASSES = 4;
const WG = 256;

/** The buffers of one select: counts [segments·slots·256], state [segments·slots·2], tallies [segments + 1] (u32 words). */
export interface SegmentSelect {
  counts: GpuTensor; state: GpuTensor; tallies: GpuTensor;
  segments: number; slots: number; inner: number;
  /** PPOQ threshold as segment_radix.wgsl compares it (tauBits in calibration/gpu/inputs.ts). */
  tauBits: number;
}

/** Records the `count` dispatch of pass 0..3 over x (any shape; element i in segment (i / inner) % segments). */
export function segmentRadixCount(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, s: SegmentSelect, pass: number): void {
  expectShape('segment_radix', 'counts', s.counts, [s.segments * s.slots * SEGMENT_DIGITS]);
  const count = valueCount(x), groups = gridGroups(count, WG), shift = 24 - 8 * pass;
  segmentRadixKernel.run(ctx, encoder, {
    entry: 'count', overrides: { WG },
    buffers: [x.buffer, s.counts.buffer, s.state.buffer, s.tallies.buffer],
    params: {
      count, groups, inner: s.inner, segments: s.segments, slots: s.slots, pass_slots: pass === 0 ? 1 : s.slots,
      shift, mask: pass === 0 ? 0 : (0xffffffff << (32 - 8 * pass)) >>> 0, tau_bits: s.tauBits, tally: pass === 0 ? 1 : 0,
    },
    workgroups: groups,
  });
}

/** Records the `select_digit` dispatch that ends pass 0..3 (x is any bound tensor; the entry does not read it). */
export function segmentRadixSelect(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, s: SegmentSelect, pass: number): void {
  const n = s.segments * s.slots;
  segmentRadixKernel.run(ctx, encoder, {
    entry: 'select_digit', overrides: { WG },
    buffers: [x.buffer, s.counts.buffer, s.state.buffer, s.tallies.buffer],
    params: {
      count: 0, groups: 0, inner: s.inner, segments: s.segments, slots: s.slots, pass_slots: pass === 0 ? 1 : s.slots,
      shift: 24 - 8 * pass, mask: 0, tau_bits: s.tauBits, tally: 0,
    },
    workgroups: Math.ceil(n / WG),
  });
}
