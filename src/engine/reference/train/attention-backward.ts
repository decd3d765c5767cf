/**
 * CPU twin of kernels/train/attention-backward.ts: the gradient of attentionRef's out w.r.t. the fused
 * qkv [B·N, 3·dim] (q | k | v, head h at columns h·hd ..), given the probabilities P [B, H, N, N] of the
 * forward pass and dOut [B·N, dim]; float64. Per (b, h), with scale = 1/√hd by default:
 *   dP = dO·Vᵀ (+ dprobsExtra, e.g. the attention KL term's gradient), dS = softmax backward of dP,
 *   dQ = scale·dS·K,  dK = scale·dSᵀ·Q,  dV = Pᵀ·dO.
 * Returns dS [B, H, N, N] too (the gradient w.r.t. the pre-softmax scores q·kᵀ·scale).
 */
import { softmaxBackwardRow } from './softmax-backward.ts';

export function attentionBackwardRef(qkv: ArrayLike<number>, probs: ArrayLike<number>, dout: ArrayLike<number>,
                                     batch: number, tokens: number, heads: number, headDim: number,
                                     scale = 1 / Math.sqrt(headDim), dprobsExtra?: ArrayLike<number>,
): { dqkv: Float64Array; dscores: Float64Array } {
  const dim = heads * headDim, stride = 3 * dim, n = tokens;
  const dqkv = new Float64Array(batch * n * stride);
  const dscores = new Float64Array(batch * heads * n * n);
  const dp = new Float64Array(batch * heads * n * n);
  // Column of q / k / v element (token t of batch b, head h, dim d) in qkv and dqkv.
  const at = (part: number, b: number, t: number, h: number, d: number) => (b * n + t) * stride + part * dim + h * headDim + d;
  const og = (b: number, t: number, h: number, d: number) => (b * n + t) * dim + h * headDim + d;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const base = (b * heads + h) * n * n;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let acc = dprobsExtra ? dprobsExtra[base + i * n + j] : 0;
          for (let d = 0; d < headDim; d++) acc += dout[og(b, i, h, d)] * qkv[at(2, b, j, h, d)];
          dp[base + i * n + j] = acc;
        }
        softmaxBackwardRow(probs, dp, base + i * n, n, dscores);
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const ds = dscores[base + i * n + j] * scale, p = probs[base + i * n + j];
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
