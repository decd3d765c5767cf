/**
 * Per-channel and per-token min/max accumulated over batches on the GPU (shaders/stats/axis_min_max.wgsl).
 * The accumulators are plain f32 tensors, so later kernels (e.g. quantizer calibration) can read them.
 */
import src from '../../../../shaders/stats/axis_min_max.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';
import { recordFill } from './grid.ts';

export const axisMinMaxKernel = new Kernel({
  name: 'axis_min_max',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'mins', kind: 'read_write' }, { name: 'maxs', kind: 'read_write' }],
  params: [['rows', 'u32'], ['cols', 'u32'], ['tokens', 'u32'], ['rows_per_group', 'u32']],
});

/** min [len] and max [len], f32. */
export interface AxisMinMaxAcc { min: GpuTensor; max: GpuTensor }

/** Allocates (unless given) and records min = +inf, max = -inf for `len` channels or tokens. */
export function axisMinMaxInit(ctx: GpuContext, encoder: GPUCommandEncoder, len: number,
                               acc?: AxisMinMaxAcc): AxisMinMaxAcc {
  const a = acc ?? { min: allocTensor(ctx, [len], 'axis_min_max.min'), max: allocTensor(ctx, [len], 'axis_min_max.max') };
  expectShape('axis_min_max', 'min', a.min, [len]);
  expectShape('axis_min_max', 'max', a.max, [len]);
  recordFill(ctx, encoder, a.min.buffer, new Float32Array(len).fill(Infinity));
  recordFill(ctx, encoder, a.max.buffer, new Float32Array(len).fill(-Infinity));
  return a;
}

/** A tensor of any rank as [rows, cols] with cols its last dim (attention probs [B,H,N,N] → [B·H·N, N]). */
function asMatrix(kernel: string, x: GpuTensor): { rows: number; cols: number } {
  if (x.shape.length < 1) throw new ShapeError(`${kernel}: x must have at least one dimension.`);
  const cols = x.shape[x.shape.length - 1];
  return { rows: x.shape.slice(0, -1).reduce((a, b) => a * b, 1), cols };
}

/** Records acc[c] = (min, max)(acc[c], x[:, c]) for x [rows, cols] (NaNs ignored; acc length cols). */
export function channelMinMax(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, acc: AxisMinMaxAcc,
                              options: { workgroupSize?: number; rowsPerGroup?: number } = {}): void {
  const { rows, cols } = asMatrix('channel_min_max', x);
  expectShape('channel_min_max', 'acc.min', acc.min, [cols]);
  expectShape('channel_min_max', 'acc.max', acc.max, [cols]);
  const wg = options.workgroupSize ?? 64, rowsPerGroup = options.rowsPerGroup ?? 64;
  axisMinMaxKernel.run(ctx, encoder, {
    entry: 'per_channel', overrides: { WG: wg }, buffers: [x.buffer, acc.min.buffer, acc.max.buffer],
    params: { rows, cols, tokens: 1, rows_per_group: rowsPerGroup },
    workgroups: Math.ceil(cols / wg) * Math.ceil(rows / rowsPerGroup),
  });
}

/**
 * Records acc[n] = (min, max)(acc[n], every x[r, :] with r % tokens == n) for x [B·tokens, C] (NaNs
 * ignored; acc length tokens). Give each block its own acc for per-block statistics.
 */
export function tokenMinMax(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, tokens: number,
                            acc: AxisMinMaxAcc, options: { workgroupSize?: number } = {}): void {
  const { rows, cols } = asMatrix('token_min_max', x);
  if (!(Number.isInteger(tokens) && tokens > 0 && rows % tokens === 0)) {
    throw new ShapeError(`token_min_max: x has ${rows} rows, not a whole number of images of ${tokens} tokens.`);
  }
  expectShape('token_min_max', 'acc.min', acc.min, [tokens]);
  expectShape('token_min_max', 'acc.max', acc.max, [tokens]);
  const wg = options.workgroupSize ?? 64;
  axisMinMaxKernel.run(ctx, encoder, {
    entry: 'per_token', overrides: { WG: wg }, buffers: [x.buffer, acc.min.buffer, acc.max.buffer],
    params: { rows, cols, tokens, rows_per_group: 1 }, workgroups: rows,
  });
}
