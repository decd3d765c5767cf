/** Counts of |x| > t for up to 8 thresholds, accumulated on the GPU (shaders/stats/count_above.wgsl). */
import src from '../../../../shaders/stats/count_above.wgsl?raw';
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { gridGroups, readU32, valueCount } from './grid.ts';

const SLOTS = 8;
export const countAboveKernel = new Kernel({
  name: 'count_above',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'counts', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32'], ['thresholds', 'u32'],
    ...Array.from({ length: SLOTS }, (_, j) => [`t${j}`, 'u32'] as const)],
});

/** counts [8] u32; only the first thresholds.length are meaningful. */
export interface CountAboveAcc { counts: GpuTensor; thresholds: readonly number[] }

/** Allocates and records zeroed counters for 1..8 thresholds t >= 0 (compared as f32: Math.fround(t)). */
export function countAboveInit(ctx: GpuContext, encoder: GPUCommandEncoder, thresholds: readonly number[]): CountAboveAcc {
  if (thresholds.length < 1 || thresholds.length > SLOTS || !thresholds.every((t) => t >= 0)) {
    throw new UsageError(`count_above: give 1 to ${SLOTS} thresholds, each >= 0 (got ${thresholds.join(', ')}).`);
  }
  const counts = allocTensor(ctx, [SLOTS], 'count_above.counts');
  encoder.clearBuffer(counts.buffer, 0, SLOTS * 4);
  return { counts, thresholds: [...thresholds] };
}

/** Records counts[j] += #{ |x| > t_j } over every value of x (any shape); NaNs never count. */
export function countAbove(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, acc: CountAboveAcc,
                           options: { workgroupSize?: number } = {}): void {
  expectShape('count_above', 'counts', acc.counts, [SLOTS]);
  const wg = options.workgroupSize ?? 256;
  const count = valueCount(x), groups = gridGroups(count, wg);
  // The shader compares |x| and t as bit patterns (monotonic for non-negative floats); -0 becomes +0.
  const bits = new Uint32Array(new Float32Array(SLOTS).fill(Infinity).map((v, j) => (j < acc.thresholds.length ? Math.abs(acc.thresholds[j]) : v)).buffer);
  const params: Record<string, number> = { count, groups, thresholds: acc.thresholds.length };
  bits.forEach((b, j) => { params[`t${j}`] = b; });
  countAboveKernel.run(ctx, encoder, {
    overrides: { WG: wg }, buffers: [x.buffer, acc.counts.buffer], params, workgroups: groups,
  });
}

/** The counts, one per threshold. */
export async function readCountAbove(ctx: GpuContext, acc: CountAboveAcc): Promise<number[]> {
  return [...(await readU32(ctx, acc.counts, acc.thresholds.length))];
}
