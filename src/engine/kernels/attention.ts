/** Multi-head self-attention on the GPU (shaders/vit/attention.wgsl): softmax(q·kᵀ·scale)·v per head. */
import src from '../../../shaders/vit/attention.wgsl?raw';
import { ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, expectShape, releaseTensor, type GpuTensor } from '../gpu/tensor.ts';

export const attentionKernel = new Kernel({
  name: 'attention',
  code: src,
  bindings: [{ name: 'qkv', kind: 'read' }, { name: 'probs', kind: 'read_write' }, { name: 'out', kind: 'read_write' }],
  params: [['batch', 'u32'], ['tokens', 'u32'], ['heads', 'u32'], ['head_dim', 'u32'], ['scale', 'f32']],
});

const MAX_HEAD_DIM = 256;

export interface AttentionOptions {
  batch: number;
  heads: number;
  /** Defaults to head_dim^-0.5. */
  scale?: number;
  /**
   * Keep the attention probabilities [B, heads, N, N] and return them (otherwise scratch, released); with
   * quantizeProbs, the quantized map P·v read is returned too (probsQ), for the backward's dV = P̂ᵀ·dO.
   */
  keepProbs?: boolean;
  out?: GpuTensor;
  /** 'workgroup' (a workgroup per query row; GPUs) or 'rows' (a thread per query row; CPU drivers). Default by adapter. */
  variant?: 'workgroup' | 'rows';
  /**
   * Quantized models: called between softmax and P·v with the probabilities [B, heads, N, N] on this
   * encoder; returns the tensor P·v reads (a new one: attention releases it after recording P·v unless
   * keepProbs hands it to the caller; or probs itself, a pass-through).
   */
  quantizeProbs?: (probs: GpuTensor) => GpuTensor;
}

/**
 * Records attention over qkv [B·N, 3·dim]; returns out [B·N, dim] and, with keepProbs, probs [B, heads, N, N]
 * and (quantizeProbs returned a new tensor) probsQ, the quantized map; the caller then owns and releases them.
 */
export function attention(ctx: GpuContext, encoder: GPUCommandEncoder, qkv: GpuTensor,
                          o: AttentionOptions): { out: GpuTensor; probs?: GpuTensor; probsQ?: GpuTensor } {
  const s = expectShape('attention', 'qkv', qkv, ['rows', 'width']);
  const { batch, heads } = o;
  if (!(batch > 0) || s.rows % batch !== 0) throw new ShapeError(`attention: ${s.rows} qkv rows do not split into batch ${batch}.`);
  if (!(heads > 0) || s.width % (3 * heads) !== 0) throw new ShapeError(`attention: qkv width ${s.width} is not 3 × heads (${heads}) × head_dim.`);
  const tokens = s.rows / batch;
  const headDim = s.width / (3 * heads);
  if (headDim > MAX_HEAD_DIM) throw new ShapeError(`attention: head_dim ${headDim} exceeds the supported ${MAX_HEAD_DIM}.`);
  const out = o.out ?? allocTensor(ctx, [s.rows, heads * headDim], 'attention.out');
  expectShape('attention', 'out', out, [s.rows, heads * headDim]);
  const probs = allocTensor(ctx, [batch, heads, tokens, tokens], 'attention.probs');
  // One thread per head dim in weighted_sum needs WG >= head_dim; 64 keeps short rows busy too.
  const wg = Math.max(64, 2 ** Math.ceil(Math.log2(headDim)));
  const common = {
    overrides: { WG: wg, MAX_HEAD_DIM },
    buffers: [qkv.buffer, probs.buffer, out.buffer],
    params: { batch, tokens, heads, head_dim: headDim, scale: o.scale ?? 1 / Math.sqrt(headDim) },
    workgroups: batch * heads * tokens,
  };
  const rows = (o.variant ?? (ctx.isSoftware ? 'rows' : 'workgroup')) === 'rows';
  const rowGroups = Math.ceil((batch * heads * tokens) / wg);
  let probsQ: GpuTensor | undefined;
  if (o.quantizeProbs) {
    // Split path: softmax, the caller's quantizer, then P·v reading the quantized probabilities.
    attentionKernel.run(ctx, encoder, rows ? { ...common, entry: 'rows_probs', workgroups: rowGroups } : { ...common, entry: 'scores_softmax' });
    const pq = o.quantizeProbs(probs);
    const split = { ...common, buffers: [qkv.buffer, pq.buffer, out.buffer] };
    attentionKernel.run(ctx, encoder, rows ? { ...split, entry: 'rows_sum', workgroups: rowGroups } : { ...split, entry: 'weighted_sum' });
    if (pq !== probs) probsQ = pq;  // a pass-through quantizer hands back probs itself
  } else if (rows) {
    attentionKernel.run(ctx, encoder, { ...common, entry: 'rows', workgroups: rowGroups });
  } else {
    attentionKernel.run(ctx, encoder, { ...common, entry: 'scores_softmax' });
    attentionKernel.run(ctx, encoder, { ...common, entry: 'weighted_sum' });
  }
  if (o.keepProbs) return probsQ ? { out, probs, probsQ } : { out, probs };
  for (const t of [probs, probsQ]) if (t) releaseTensor(ctx, t);  // reused only after this encoder is submitted
  return { out };
}
