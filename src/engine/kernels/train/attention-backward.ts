/**
 * Gradient of attention (kernels/attention.ts) w.r.t. the fused qkv (shaders/train/attention_backward.wgsl):
 * dV = Pᵀ·dO, dP = dO·Vᵀ (+ an extra dP), dS = softmax backward, dQ = scale·dS·K, dK = scale·dSᵀ·Q.
 * Twin: reference/train/attention-backward.ts.
 */
import src from '../../../../shaders/train/attention_backward.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';

export const attentionBackwardKernel = new Kernel({
  name: 'attention_backward',
  code: src,
  bindings: [
    { name: 'qkv', kind: 'read' }, { name: 'probs', kind: 'read' }, { name: 'dout', kind: 'read' },
    { name: 'dprobs_extra', kind: 'read' }, { name: 'dscores', kind: 'read_write' }, { name: 'dqkv', kind: 'read_write' },
  ],
  params: [['batch', 'u32'], ['tokens', 'u32'], ['heads', 'u32'], ['head_dim', 'u32'], ['scale', 'f32'], ['has_extra', 'u32']],
});

const WG = 64;

export interface AttentionBackwardOptions {
  batch: number;
  heads: number;
  /** Defaults to head_dim^-0.5, as in the forward. */
  scale?: number;
  /** An additional gradient w.r.t. the probabilities [B, heads, N, N], e.g. attentionKl's grad. */
  dprobs?: GpuTensor;
  out?: GpuTensor;
  /** Return dS [B, heads, N, N], the gradient w.r.t. the pre-softmax scores (otherwise scratch, released). */
  keepScoresGrad?: boolean;
}

/** Records dqkv [B·N, 3·dim] from qkv, the forward's probabilities P [B, heads, N, N] and dOut [B·N, dim]. */
export function attentionBackward(ctx: GpuContext, encoder: GPUCommandEncoder, qkv: GpuTensor, probs: GpuTensor,
                                  dout: GpuTensor, o: AttentionBackwardOptions): { dqkv: GpuTensor; dscores?: GpuTensor } {
  const s = expectShape('attention_backward', 'qkv', qkv, ['rows', 'width']);
  const { batch, heads } = o;
  if (!(batch > 0) || s.rows % batch !== 0) throw new ShapeError(`attention_backward: ${s.rows} qkv rows do not split into batch ${batch}.`);
  if (!(heads > 0) || s.width % (3 * heads) !== 0) throw new ShapeError(`attention_backward: qkv width ${s.width} is not 3 × heads (${heads}) × head_dim.`);
  const tokens = s.rows / batch, headDim = s.width / (3 * heads), dim = heads * headDim;
  expectShape('attention_backward', 'probs', probs, [batch, heads, tokens, tokens]);
  expectShape('attention_backward', 'dout', dout, [s.rows, dim]);
  if (o.dprobs) expectShape('attention_backward', 'dprobs', o.dprobs, [batch, heads, tokens, tokens]);
  const dqkv = o.out ?? allocTensor(ctx, [s.rows, s.width], 'attention_backward.dqkv');
  expectShape('attention_backward', 'out', dqkv, [s.rows, s.width]);
  const dscores = allocTensor(ctx, [batch, heads, tokens, tokens], 'attention_backward.dscores');
  const common = {
    overrides: { WG },
    buffers: [qkv.buffer, probs.buffer, dout.buffer, (o.dprobs ?? probs).buffer, dscores.buffer, dqkv.buffer],
    params: { batch, tokens, heads, head_dim: headDim, scale: o.scale ?? 1 / Math.sqrt(headDim), has_extra: o.dprobs ? 1 : 0 },
  };
  attentionBackwardKernel.run(ctx, encoder, { ...common, entry: 'scores_grad', workgroups: Math.ceil((batch * heads * tokens) / WG) });
  const elements = Math.ceil((s.rows * dim) / WG);
  attentionBackwardKernel.run(ctx, encoder, { ...common, entry: 'query_grad', workgroups: elements });
  attentionBackwardKernel.run(ctx, encoder, { ...common, entry: 'key_value_grad', workgroups: elements });
  if (o.keepScoresGrad) return { dqkv, dscores };
  releaseTensor(ctx, dscores);  // reused only after this encoder is submitted
  return { dqkv };
}
