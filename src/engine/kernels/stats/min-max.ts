/** Min, max and NaN count of whole tensors, accumulated over batches on the GPU (shaders/stats/min_max.wgsl). */
import src from '../../../../shaders/stats/min_max.wgsl?raw';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { gridGroups, readU32, recordFill, valueCount } from './grid.ts';

export const minMaxKernel = new Kernel({
  name: 'min_max',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'acc', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32']],
});

/** acc [3]: word 0 min (f32), word 1 max (f32), word 2 NaN count (u32). */
export type MinMaxAcc = GpuTensor;
export interface MinMaxResult { min: number; max: number; nans: number }

/** Records acc = [+inf, -inf, 0] (allocating acc unless given): the state before any value. */
export function minMaxInit(ctx: GpuContext, encoder: GPUCommandEncoder, acc?: MinMaxAcc): MinMaxAcc {
  const a = acc ?? allocTensor(ctx, [3], 'min_max.acc');
  expectShape('min_max', 'acc', a, [3]);
  const init = new Float32Array([Infinity, -Infinity, 0]);  // 0.0f has the bits of u32 0
  recordFill(ctx, encoder, a.buffer, init);
  return a;
}

/** Records acc = (min(acc.min, min x), max(acc.max, max x), acc.nans + #NaN(x)) for x of any shape. */
export function minMax(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, acc: MinMaxAcc,
                       options: { workgroupSize?: number } = {}): void {
  expectShape('min_max', 'acc', acc, [3]);
  const wg = options.workgroupSize ?? 256;
  const count = valueCount(x);
  const groups = gridGroups(count, wg);
  minMaxKernel.run(ctx, encoder, {
    overrides: { WG: wg }, buffers: [x.buffer, acc.buffer], params: { count, groups }, workgroups: groups,
  });
}

/** Reads acc back: min/max are +inf/-inf when no number was seen (empty or all-NaN input). */
export async function readMinMax(ctx: GpuContext, acc: MinMaxAcc): Promise<MinMaxResult> {
  const words = await readU32(ctx, acc, 3);
  const f = new Float32Array(words.buffer, words.byteOffset, 2);
  return { min: f[0], max: f[1], nans: words[2] };
}
