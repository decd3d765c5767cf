/**
 * QDrop input mixing of ADFQ §5.4 (shaders/train/qdrop_mix.wgsl): each element of a module's input comes
 * from the quantized model's Xq with probability `prob`, else from the FP model's Xfp, by a seeded integer
 * hash of (element, step, seed): the same mask on every GPU and in the twin reference/train/qdrop-mix.ts.
 */
import src from '../../../../shaders/train/qdrop_mix.wgsl?raw';
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, type GpuTensor } from '../../gpu/tensor.ts';
import { checkU32, qdropThreshold } from '../../reference/train/qdrop-mix.ts';

export const qdropMixKernel = new Kernel({
  name: 'qdrop_mix',
  code: src,
  bindings: [{ name: 'xq', kind: 'read' }, { name: 'xfp', kind: 'read' }, { name: 'out', kind: 'read_write' }],
  params: [['count', 'u32'], ['step', 'u32'], ['seed', 'u32'], ['threshold', 'u32']],
});

const WG = 256;

export interface QdropMixOptions {
  /** Probability of taking Xq (0.5 in ADFQ); 0 gives Xfp, 1 gives Xq. */
  prob: number;
  /** Integers 0..2^32 − 1: a new step (or seed) draws a new mask. */
  seed: number;
  step: number;
  /** Write here (shape of xq; not xq or xfp themselves) instead of a fresh tensor. */
  out?: GpuTensor;
}

/** Records out = keep ? xq : xfp elementwise over xq, xfp of one shape; returns out. */
export function qdropMix(ctx: GpuContext, encoder: GPUCommandEncoder, xq: GpuTensor, xfp: GpuTensor, o: QdropMixOptions): GpuTensor {
  expectShape('qdrop_mix', 'xfp', xfp, xq.shape);
  const threshold = qdropThreshold(o.prob), seed = checkU32('seed', o.seed), step = checkU32('step', o.step);
  const out = o.out ?? allocTensor(ctx, xq.shape, 'qdrop_mix.out');
  expectShape('qdrop_mix', 'out', out, xq.shape);
  // A buffer bound as writable may not also be bound as an input of the same dispatch.
  if (out.buffer === xq.buffer || out.buffer === xfp.buffer) throw new UsageError('qdrop_mix: out must not be xq or xfp.');
  const count = numel(xq.shape);
  qdropMixKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [xq.buffer, xfp.buffer, out.buffer],
    params: { count, step, seed, threshold }, workgroups: Math.ceil(count / WG),
  });
  return out;
}
