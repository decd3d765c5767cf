/** Elementwise add on the GPU (shaders/vit/add.wgsl), for residuals that are not fused into matmul. */
import src from '../../../shaders/vit/add.wgsl?raw';
import { ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, numel, type GpuTensor } from '../gpu/tensor.ts';

export const addKernel = new Kernel({
  name: 'add',
  code: src,
  bindings: [{ name: 'a', kind: 'read' }, { name: 'b', kind: 'read' }, { name: 'y', kind: 'read_write' }],
  params: [['count', 'u32']],
});

const WG = 256;

/** Records y = a + b (same shapes); `out` may not alias a or b (WebGPU forbids it within one dispatch). */
export function add(ctx: GpuContext, encoder: GPUCommandEncoder, a: GpuTensor, b: GpuTensor,
                    options: { out?: GpuTensor } = {}): GpuTensor {
  if (a.shape.join() !== b.shape.join()) throw new ShapeError(`add: shapes [${a.shape}] and [${b.shape}] differ.`);
  const y = options.out ?? allocTensor(ctx, a.shape, 'add.y');
  if (y.shape.join() !== a.shape.join()) throw new ShapeError(`add: out has shape [${y.shape}], expected [${a.shape}].`);
  if (y.buffer === a.buffer || y.buffer === b.buffer) throw new ShapeError('add: out must be a different buffer from a and b.');
  const count = numel(a.shape);
  addKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [a.buffer, b.buffer, y.buffer], params: { count }, workgroups: Math.ceil(count / WG),
  });
  return y;
}
