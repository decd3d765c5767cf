/**
 * The reconstruction loss L_rec = Σ(ŷ − y)²/(B·C) and its gradient (shaders/train/recon_loss.wgsl); the loss
 * comes back as per-workgroup partials (sumPartials on the GPU, readPartialSum on the host).
 * Twin: reference/train/recon-loss.ts.
 */
import src from '../../../../shaders/train/recon_loss.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, type GpuTensor } from '../../gpu/tensor.ts';

export const reconLossKernel = new Kernel({
  name: 'recon_loss',
  code: src,
  bindings: [{ name: 'y_hat', kind: 'read' }, { name: 'y_fp', kind: 'read' }, { name: 'grad', kind: 'read_write' }, { name: 'partials', kind: 'read_write' }],
  params: [['count', 'u32'], ['coef', 'f32']],
});

const WG = 256;

/**
 * Records L_rec of the module output ŷ against the FP target y (one shape [..., C], `batch` images:
 * [B·N, C] tokens or [B, C] logits): returns ∂L/∂ŷ (into `out` when given) and the loss partials.
 */
export function reconLoss(ctx: GpuContext, encoder: GPUCommandEncoder, yHat: GpuTensor, yFp: GpuTensor,
                          o: { batch: number; out?: GpuTensor }): { grad: GpuTensor; partials: GpuTensor } {
  expectShape('recon_loss', 'yFp', yFp, yHat.shape);
  const count = numel(yHat.shape), channels = yHat.shape.at(-1) ?? 0;
  if (!(count > 0 && channels > 0)) throw new ShapeError('recon_loss: the output is empty.');
  if (!(Number.isInteger(o.batch) && o.batch >= 1 && (count / channels) % o.batch === 0)) {
    throw new ShapeError(`recon_loss: batch ${o.batch} does not divide the ${count / channels} rows.`);
  }
  const grad = o.out ?? allocTensor(ctx, yHat.shape, 'recon_loss.grad');
  expectShape('recon_loss', 'out', grad, yHat.shape);
  const groups = Math.ceil(count / WG);
  const partials = allocTensor(ctx, [groups], 'recon_loss.partials');
  reconLossKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [yHat.buffer, yFp.buffer, grad.buffer, partials.buffer],
    params: { count, coef: 1 / (o.batch * channels) }, workgroups: groups,
  });
  return { grad, partials };
}
