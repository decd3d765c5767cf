/** dX = dY·gelu'(x) from the pre-activation x (shaders/train/gelu_backward.wgsl). Twin: reference/train/gelu-backward.ts. */
import erf from '../../../../shaders/common/erf.wgsl?raw';
import src from '../../../../shaders/train/gelu_backward.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, numel, type GpuTensor } from '../../gpu/tensor.ts';

export const geluBackwardKernel = new Kernel({
  name: 'gelu_backward',
  code: src,
  libs: [erf],
  bindings: [{ name: 'x', kind: 'read' }, { name: 'dy', kind: 'read' }, { name: 'dx', kind: 'read_write' }],
  params: [['count', 'u32']],
});

/** The two GELU epilogues of matmul (same names as its Epilogue). */
export type GeluForm = 'gelu-erf' | 'gelu-tanh';
const WG = 256;
const sameShape = (a: GpuTensor, b: GpuTensor) => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** Records dX = dY·gelu'(x); x (the pre-activation), dY and dX share one shape. */
export function geluBackward(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, dy: GpuTensor, form: GeluForm,
                             out?: GpuTensor): GpuTensor {
  if (!sameShape(x, dy)) throw new ShapeError(`gelu_backward: dy has shape [${dy.shape.join(', ')}] but x has [${x.shape.join(', ')}].`);
  const dx = out ?? allocTensor(ctx, x.shape, 'gelu_backward.dx');
  if (!sameShape(x, dx)) throw new ShapeError(`gelu_backward: out has shape [${dx.shape.join(', ')}] but x has [${x.shape.join(', ')}].`);
  const count = numel(x.shape);
  geluBackwardKernel.run(ctx, encoder, {
    entry: form === 'gelu-erf' ? 'gelu_erf_backward' : 'gelu_tanh_backward',
    overrides: { WG }, buffers: [x.buffer, dy.buffer, dx.buffer], params: { count }, workgroups: Math.ceil(count / WG),
  });
  return dx;
}
