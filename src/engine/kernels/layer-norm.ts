/** LayerNorm over the last dim on the GPU (shaders/vit/layer_norm.wgsl). */
import src from '../../../shaders/vit/layer_norm.wgsl?raw';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../gpu/tensor.ts';

export const layerNormKernel = new Kernel({
  name: 'layer_norm',
  code: src,
  bindings: [
    { name: 'x', kind: 'read' }, { name: 'gamma', kind: 'read' }, { name: 'beta', kind: 'read' },
    { name: 'y', kind: 'read_write' },
  ],
  params: [['rows', 'u32'], ['cols', 'u32'], ['eps', 'f32']],
});

/** Records y = LayerNorm(x)·gamma + beta for x [rows, cols]; returns y (a new pooled tensor unless `out`). */
export function layerNorm(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, gamma: GpuTensor, beta: GpuTensor,
                          eps: number, options: { out?: GpuTensor; workgroupSize?: number; variant?: 'workgroup' | 'rows' } = {}): GpuTensor {
  const s = expectShape('layer_norm', 'x', x, ['rows', 'cols']);
  expectShape('layer_norm', 'gamma', gamma, ['cols'], s);
  expectShape('layer_norm', 'beta', beta, ['cols'], s);
  const y = options.out ?? allocTensor(ctx, [s.rows, s.cols], 'layer_norm.y');
  expectShape('layer_norm', 'out', y, ['rows', 'cols'], s);
  const wg = options.workgroupSize ?? 128;
  const perThread = (options.variant ?? (ctx.isSoftware ? 'rows' : 'workgroup')) === 'rows';
  layerNormKernel.run(ctx, encoder, {
    entry: perThread ? 'rows' : 'main',
    overrides: { WG: wg },
    buffers: [x.buffer, gamma.buffer, beta.buffer, y.buffer],
    params: { rows: s.rows, cols: s.cols, eps },
    workgroups: perThread ? Math.ceil(s.rows / wg) : s.rows,
  });
  return y;
}
