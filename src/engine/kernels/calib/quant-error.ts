/**
 * Per-workgroup partial sums of (x − x̂)² and x² (shaders/calib/quant_error.wgsl), for per-layer error
 * reports. calibration/gpu/quant-error.ts drives it; twin: reference/calib/quant-error.ts.
 */
import src from '../../../../shaders/calib/quant_error.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { numel, type GpuTensor } from '../../gpu/tensor.ts';

export const quantErrorKernel = new Kernel({
  name: 'quant_error',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 'xq', kind: 'read' }, { name: 'partials', kind: 'read_write' }],
  params: [['count', 'u32'], ['groups', 'u32'], ['base', 'u32']],
});

const WG = 256;

/** Workgroups (= partial pairs) for `count` values: about 16 values per thread, never fewer than one. */
export const quantErrorGroups = (count: number): number => Math.max(1, Math.ceil(count / (WG * 16)));

/** Records partials[base .. base + groups) = (Σ (x − x̂)², Σ x²) per workgroup; x and x̂ must have equal shapes. */
export function quantError(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, xq: GpuTensor, partials: GPUBuffer, base: number): number {
  const count = numel(x.shape);
  if (x.shape.length !== xq.shape.length || x.shape.some((d, i) => d !== xq.shape[i])) {
    throw new ShapeError(`quant_error: x̂ has shape [${xq.shape.join(', ')}] but x has [${x.shape.join(', ')}].`);
  }
  const groups = quantErrorGroups(count);
  quantErrorKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [x.buffer, xq.buffer, partials], params: { count, groups, base }, workgroups: groups,
  });
  return groups;
}
