/**
 * Row softmax backward dS = P ⊙ (dP − Σ_j dP·P) over the last axis (shaders/train/softmax_backward.wgsl).
 * Twin: reference/train/softmax-backward.ts.
 */
import src from '../../../../shaders/train/softmax_backward.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, numel, type GpuTensor } from '../../gpu/tensor.ts';

export const softmaxBackwardKernel = new Kernel({
  name: 'softmax_backward',
  code: src,
  bindings: [{ name: 'probs', kind: 'read' }, { name: 'dprobs', kind: 'read' }, { name: 'dscores', kind: 'read_write' }],
  params: [['rows', 'u32'], ['cols', 'u32']],
});

const WG = 64;
const fmt = (t: GpuTensor) => `[${t.shape.join(', ')}]`;

/** Records dS for probabilities P (softmax over the last axis) and their gradient dP, both of one shape. */
export function softmaxBackward(ctx: GpuContext, encoder: GPUCommandEncoder, probs: GpuTensor, dprobs: GpuTensor,
                                out?: GpuTensor): GpuTensor {
  if (fmt(probs) !== fmt(dprobs)) throw new ShapeError(`softmax_backward: dprobs has shape ${fmt(dprobs)} but probs has ${fmt(probs)}.`);
  const cols = probs.shape.at(-1) ?? 0;
  if (!(cols > 0)) throw new ShapeError(`softmax_backward: probs ${fmt(probs)} has no softmax axis.`);
  const dscores = out ?? allocTensor(ctx, probs.shape, 'softmax_backward.dscores');
  if (fmt(dscores) !== fmt(probs)) throw new ShapeError(`softmax_backward: out has shape ${fmt(dscores)} but probs has ${fmt(probs)}.`);
  const rows = numel(probs.shape) / cols;
  softmaxBackwardKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [probs.buffer, dprobs.buffer, dscores.buffer], params: { rows, cols }, workgroups: Math.ceil(rows / WG),
  });
  return dscores;
}
