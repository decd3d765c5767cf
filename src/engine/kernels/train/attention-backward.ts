/**
 * Gradient of attention (kernels/attention.ts) w.r.t. the fused qkv (shaders/train/attention_backward.wgsl):
 * dV = P̂ᵀ·dO, dP = rule(dO·Vᵀ) (+ an extra dP), dS = softmax backward, dQ = scale·dS·K, dK = scale·dSᵀ·Q.
 * P̂ = P and the rule 'pass' for the float forward; a quantized forward (attention's quantizeProbs with the
 * post-softmax log quantizer) passes its P̂ and says how dP̂ reaches P. Twin: reference/train/attention-backward.ts.
 */
import src from '../../../../shaders/train/attention_backward.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { logThresholds, type LogBase } from '../../reference/quant/log-quant.ts';
import { logTopThreshold } from '../../reference/train/quant-backward.ts';
import type { DoutRule } from '../../reference/train/attention-backward.ts';
import { checkBits } from '../quant/uniform-quant.ts';

export type { DoutRule };

export const attentionBackwardKernel = new Kernel({
  name: 'attention_backward',
  code: src,
  libs: [exactDivision],
  bindings: [
    { name: 'qkv', kind: 'read' }, { name: 'probs', kind: 'read' }, { name: 'probs_hat', kind: 'read' }, { name: 'dout', kind: 'read' },
    { name: 'dprobs_extra', kind: 'read' }, { name: 'quant', kind: 'read' }, { name: 'dscores', kind: 'read_write' }, { name: 'dqkv', kind: 'read_write' },
  ],
  params: [['batch', 'u32'], ['tokens', 'u32'], ['heads', 'u32'], ['head_dim', 'u32'], ['scale', 'f32'], ['has_extra', 'u32'],
    ['dout_rule', 'u32'], ['levels', 'u32'], ['top_bits', 'u32']],
});

const WG = 64;
const MAX_LOG_BITS = 10;  // as log_quant
const DOUT_RULES: Record<DoutRule, number> = { pass: 0, none: 1, ste: 2 };

export interface AttentionBackwardOptions {
  batch: number;
  heads: number;
  /** Defaults to head_dim^-0.5, as in the forward. */
  scale?: number;
  /** An additional gradient w.r.t. the probabilities P [B, heads, N, N] (before the quantizer), e.g. attentionKl's grad. */
  dprobs?: GpuTensor;
  /** The quantized probabilities P̂ [B, heads, N, N] that P·v read (dV = P̂ᵀ·dO); default P. */
  probsHat?: GpuTensor;
  /**
   * How dP̂ = dO·Vᵀ reaches P: 'pass' (default: no quantizer), 'none' (it rounds without STE: nothing; the
   * default mode of §5.5), 'ste' (inside the quantizer's range only; needs probsQuant).
   */
  doutRule?: DoutRule;
  /** The post-softmax log quantizer, as given to logQuant: Δ [1], bits, base (default 'sqrt2'). */
  probsQuant?: { delta: GpuTensor; bits: number; base?: LogBase };
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
  const tokens = s.rows / batch, headDim = s.width / (3 * heads), dim = heads * headDim, maps = [batch, heads, tokens, tokens];
  expectShape('attention_backward', 'probs', probs, maps);
  expectShape('attention_backward', 'dout', dout, [s.rows, dim]);
  if (o.dprobs) expectShape('attention_backward', 'dprobs', o.dprobs, maps);
  if (o.probsHat) expectShape('attention_backward', 'probsHat', o.probsHat, maps);
  const rule = o.doutRule ?? 'pass';
  if (!(rule in DOUT_RULES)) throw new UsageError(`attention_backward: doutRule must be 'pass', 'none' or 'ste', not ${String(rule)}.`);
  const quant = rule === 'ste' ? quantTable(ctx, encoder, o.probsQuant) : null;
  const dqkv = o.out ?? allocTensor(ctx, [s.rows, s.width], 'attention_backward.dqkv');
  expectShape('attention_backward', 'out', dqkv, [s.rows, s.width]);
  const dscores = allocTensor(ctx, maps, 'attention_backward.dscores');
  const common = {
    overrides: { WG },
    buffers: [qkv.buffer, probs.buffer, (o.probsHat ?? probs).buffer, dout.buffer, (o.dprobs ?? probs).buffer,
      quant?.buffer ?? probs.buffer, dscores.buffer, dqkv.buffer],
    params: {
      batch, tokens, heads, head_dim: headDim, scale: o.scale ?? 1 / Math.sqrt(headDim), has_extra: o.dprobs ? 1 : 0,
      dout_rule: DOUT_RULES[rule], levels: quant?.levels ?? 0, top_bits: quant?.top ?? 0,
    },
  };
  attentionBackwardKernel.run(ctx, encoder, { ...common, entry: 'scores_grad', workgroups: Math.ceil((batch * heads * tokens) / WG) });
  const elements = Math.ceil((s.rows * dim) / WG);
  attentionBackwardKernel.run(ctx, encoder, { ...common, entry: 'query_grad', workgroups: elements });
  attentionBackwardKernel.run(ctx, encoder, { ...common, entry: 'key_value_grad', workgroups: elements });
  if (quant) ctx.pool.release(quant.buffer);  // these three release only after this encoder's submit (pool rule)
  if (o.keepScoresGrad) return { dqkv, dscores };
  releaseTensor(ctx, dscores);
  return { dqkv };
}

const tables = new Map<string, { thresholds: Uint32Array; top: number }>();

/**
 * The shader's quant buffer [bits of Δ, thresholds…]: the host's thresholds are uploaded behind a free
 * first word, and Δ is copied into it on the encoder, so a Δ that lives on the GPU needs no read-back.
 */
function quantTable(ctx: GpuContext, encoder: GPUCommandEncoder, q: AttentionBackwardOptions['probsQuant']) {
  if (!q) throw new UsageError("attention_backward: doutRule 'ste' needs probsQuant (the log quantizer's delta, bits, base).");
  const levels = checkBits('attention_backward', q.bits, MAX_LOG_BITS), base = q.base ?? 'sqrt2';
  if (base !== 'sqrt2' && base !== '2') throw new UsageError(`attention_backward: base must be 'sqrt2' or '2', not ${String(base)}.`);
  expectShape('attention_backward', 'probsQuant.delta', q.delta, [1]);
  const key = `${q.bits}:${base}`;
  let t = tables.get(key);
  if (!t) tables.set(key, (t = { thresholds: logThresholds(q.bits, base), top: logTopThreshold(base) }));
  const words = new Uint32Array(levels + 1);
  words.set(t.thresholds, 1);
  const buffer = ctx.pool.upload(words, undefined, 'attention_backward.quant');
  encoder.copyBufferToBuffer(q.delta.buffer, 0, buffer, 0, 4);
  return { buffer, levels, top: t.top };
}
