/**
 * CPU twin of kernels/train/attention-backward.ts: the gradient of attentionRef's out w.r.t. the fused
 * qkv [B·N, 3·dim] (q | k | v, head h at columns h·hd ..), given the probabilities P [B, H, N, N] of the
 * forward pass and dOut [B·N, dim]; float64. Per (b, h), with scale = 1/√hd by default:
 *   dP = rule(dO·Vᵀ) (+ dprobsExtra, e.g. the attention KL term's gradient), dS = softmax backward of dP,
 *   dQ = scale·dS·K,  dK = scale·dSᵀ·Q,  dV = P̂ᵀ·dO.
 * A quantized forward out = P̂·V, P̂ = logQuant(P) (attention's quantizeProbs), gives P̂ (default P) and the
 * rule by which dP̂ = dO·Vᵀ reaches P: 'pass' (no quantizer), 'none' (rounding without STE: 0), 'ste' (dP̂
 * where logRegion(f32(P)/Δ) is 'inside', 0 in the zero code and the top clamp: logQuantBackwardRef's rule).
 * Returns dS [B, H, N, N] too (the gradient w.r.t. the pre-softmax scores q·kᵀ·scale).
 */
import { UsageError } from '../../errors.ts';
import type { LogBase } from '../quant/log-quant.ts';
import { divF32, f32 } from '../quant/rounding.ts';
import { logRegion } from './quant-backward.ts';
import { softmaxBackwardRow } from './softmax-backward.ts';

export type DoutRule = 'pass' | 'none' | 'ste';
export interface AttentionQuantGrad {
  /** P̂ [B, H, N, N], read by dV = P̂ᵀ·dO; default P. */
  probsHat?: ArrayLike<number>;
  doutRule?: DoutRule;
  /** The log quantizer of P ('ste' needs it). */
  probsQuant?: { delta: number; bits: number; base?: LogBase };
}

/** The factor (1 or 0) by which dP̂ reaches P at probability p under `rule`. */
function doutGate(rule: DoutRule, q: AttentionQuantGrad['probsQuant']): (p: number) => number {
  if (rule === 'pass') return () => 1;
  if (rule === 'none') return () => 0;
  if (!q) throw new UsageError("attentionBackwardRef: doutRule 'ste' needs probsQuant.");
  const d = f32(q.delta);
  return (p) => (logRegion(divF32(f32(p), d), q.bits, q.base) === 'inside' ? 1 : 0);
}

export function attentionBackwardRef(qkv: ArrayLike<number>, probs: ArrayLike<number>, dout: ArrayLike<number>,
                                     batch: number, tokens: number, heads: number, headDim: number,
                                     scale = 1 / Math.sqrt(headDim), dprobsExtra?: ArrayLike<number>, quant: AttentionQuantGrad = {},
): { dqkv: Float64Array; dscores: Float64Array } {
  const dim = heads * headDim, stride = 3 * dim, n = tokens;
  const dqkv = new Float64Array(batch * n * stride);
  const dscores = new Float64Array(batch * heads * n * n);
  const dp = new Float64Array(batch * heads * n * n);
  const gate = doutGate(quant.doutRule ?? 'pass', quant.probsQuant), probsHat = quant.probsHat ?? probs;
  // Column of q / k / v element (token t of batch b, head h, dim d) in qkv and dqkv.
  const at = (part: number, b: number, t: number, h: number, d: number) => (b * n + t) * stride + part * dim + h * headDim + d;
  const og = (b: number, t: number, h: number, d: number) => (b * n + t) * dim + h * headDim + d;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const base = (b * heads + h) * n * n;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let d = 0; d < headDim; d++) acc += dout[og(b, i, h, d)] * qkv[at(2, b, j, h, d)];
          dp[base + i * n + j] = gate(probs[base + i * n + j]) * acc + (dprobsExtra ? dprobsExtra[base + i * n + j] : 0);
        }
        softmaxBackwardRow(probs, dp, base + i * n, n, dscores);
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const ds = dscores[base + i * n + j] * scale, p = probsHat[base + i * n + j];
          for (let d = 0; d < headDim; d++) {
            dqkv[at(0, b, i, h, d)] += ds * qkv[at(1, b, j, h, d)];
            dqkv[at(1, b, j, h, d)] += ds * qkv[at(0, b, i, h, d)];
            dqkv[at(2, b, j, h, d)] += p * dout[og(b, i, h, d)];
          }
        }
      }
    }
  }
  return { dqkv, dscores };
}
