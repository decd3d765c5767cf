/**
 * One Adam step in place on a parameter tensor and its moments (shaders/train/adam.wgsl), torch.optim.Adam's
 * arithmetic. The bias corrections of step t are computed here in float64 and passed as uniforms.
 * Twin: reference/train/adam.ts.
 */
import src from '../../../../shaders/train/adam.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { expectShape, numel, type GpuTensor } from '../../gpu/tensor.ts';
import { ADAM_DEFAULTS, type AdamOptions } from '../../reference/train/adam.ts';

export const adamKernel = new Kernel({
  name: 'adam',
  code: src,
  bindings: [{ name: 'grad', kind: 'read' }, { name: 'param', kind: 'read_write' }, { name: 'm', kind: 'read_write' }, { name: 'v', kind: 'read_write' }],
  params: [['count', 'u32'], ['lr', 'f32'], ['beta2', 'f32'], ['one_minus_beta1', 'f32'], ['one_minus_beta2', 'f32'], ['eps', 'f32'], ['bias1', 'f32'], ['bias2', 'f32'], ['lower', 'f32']],
});

const WG = 256;
export { ADAM_DEFAULTS, type AdamOptions };

export interface AdamState {
  param: GpuTensor;
  /** First and second moments, the param's shape, zeroed before step 1. */
  m: GpuTensor;
  v: GpuTensor;
}

/** Records Adam step t (1, 2, …) on `state` with gradient `grad`, in place. */
export function adamStep(ctx: GpuContext, encoder: GPUCommandEncoder, state: AdamState, grad: GpuTensor, o: AdamOptions): void {
  const { beta1, beta2, eps } = { ...ADAM_DEFAULTS, ...o };
  if (!Number.isInteger(o.step) || o.step < 1) throw new UsageError(`adam: step must be an integer ≥ 1, not ${o.step}.`);
  if (!Number.isFinite(o.lr) || o.lr < 0) throw new UsageError(`adam: lr must be a finite number ≥ 0, not ${o.lr}.`);
  const count = numel(state.param.shape);
  if (count < 1) throw new ShapeError('adam: the parameter tensor is empty.');
  for (const [k, t] of [['grad', grad], ['m', state.m], ['v', state.v]] as const) expectShape('adam', k, t, state.param.shape);
  adamKernel.run(ctx, encoder, {
    overrides: { WG },
    buffers: [grad.buffer, state.param.buffer, state.m.buffer, state.v.buffer],
    params: { count, lr: o.lr, beta2, one_minus_beta1: 1 - beta1, one_minus_beta2: 1 - beta2, eps, bias1: 1 - beta1 ** o.step, bias2: 1 - beta2 ** o.step, lower: o.lower ?? -3.4e38 },
    workgroups: Math.ceil(count / WG),
  });
}
