/** One 16-bit-digit pass of an exact radix select on the GPU (shaders/stats/radix_histogram.wgsl). */
import src from '../../../../shaders/stats/radix_histogram.wgsl?raw';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { gridGroups, valueCount } from './grid.ts';

export const radixHistogramKernel = new Kernel({
  name: 'radix_histogram',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'counts', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32'], ['shift', 'u32'], ['prefix_mask', 'u32'], ['prefix', 'u32']],
});

export const RADIX_BINS = 65_536;

/** Which digit to count and which keys take part: pass 1 is { top: undefined }, pass 2 { top: digit }. */
export interface RadixPass { top?: number }

/** Allocates and records zeroed digit counts [65536] u32. */
export function radixCountsInit(ctx: GpuContext, encoder: GPUCommandEncoder): GpuTensor {
  const counts = allocTensor(ctx, [RADIX_BINS], 'radix_histogram.counts');
  encoder.clearBuffer(counts.buffer, 0, RADIX_BINS * 4);
  return counts;
}

/** Records counts[digit] += #values of x (any shape, NaNs skipped) per digit of the pass. */
export function radixHistogram(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, counts: GpuTensor,
                               pass: RadixPass, options: { workgroupSize?: number } = {}): void {
  expectShape('radix_histogram', 'counts', counts, [RADIX_BINS]);
  const wg = options.workgroupSize ?? 256;
  const count = valueCount(x), groups = gridGroups(count, wg);
  const params = pass.top === undefined
    ? { count, groups, shift: 16, prefix_mask: 0, prefix: 0 }
    : { count, groups, shift: 0, prefix_mask: 0xffff0000, prefix: (pass.top << 16) >>> 0 };
  radixHistogramKernel.run(ctx, encoder, {
    overrides: { WG: wg }, buffers: [x.buffer, counts.buffer], params, workgroups: groups,
  });
}

/** Monotonic u32 key → the f32 it encodes (inverse of the shader's key_of). */
export function keyToFloat(key: number): number {
  const bits = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}
