/** Copies a column window of a [rows, width] tensor into a new [rows, cols] tensor (shaders/vit/slice_cols.wgsl). */
import src from '../../../shaders/vit/slice_cols.wgsl?raw';
import { ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../gpu/tensor.ts';

export const sliceColsKernel = new Kernel({
  name: 'slice_cols',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'y', kind: 'read_write' }],
  params: [['rows', 'u32'], ['width', 'u32'], ['offset', 'u32'], ['cols', 'u32']],
});

const WG = 256;

/** Records y = x[:, offset : offset + cols]. */
export function sliceCols(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, offset: number, cols: number): GpuTensor {
  const s = expectShape('slice_cols', 'x', x, ['rows', 'width']);
  if (!Number.isInteger(offset) || !Number.isInteger(cols) || offset < 0 || cols < 1 || offset + cols > s.width) {
    throw new ShapeError(`slice_cols: columns ${offset}..${offset + cols} do not fit width ${s.width}.`);
  }
  const y = allocTensor(ctx, [s.rows, cols], 'slice_cols.y');
  sliceColsKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [x.buffer, y.buffer],
    params: { rows: s.rows, width: s.width, offset, cols }, workgroups: Math.ceil((s.rows * cols) / WG),
  });
  return y;
}
