/**
 * CPU twin of kernels/train/attention-kl.ts: the head-axis attention term of ADFQ §5.4 and its gradient
 * w.r.t. the quantized model's attention maps A_q [B, H, N, N]; float64.
 *   P_q = softmax over the HEAD axis of A_q/T, P_fp likewise from A_fp,
 *   L = weight · Σ_{b,h,i,j} P_q·(log P_q − log P_fp) / B.
 * With z = A_q/T, l = log P_q, r = log P_fp and KL = Σ_h P_q(l − r) at one (b, i, j):
 *   ∂L/∂A_q[h] = weight/(B·T) · P_q[h] · ((l[h] − r[h]) − KL).
 * Log-softmaxes are max-subtracted, so no probability is formed before its logarithm.
 */
export interface AttentionKlOptions { temperature?: number; weight?: number }
export const KL_DEFAULTS = { temperature: 4, weight: 10 } as const;

export function attentionKlRef(aq: ArrayLike<number>, afp: ArrayLike<number>, batch: number, heads: number, tokens: number,
                               o: AttentionKlOptions = {}): { loss: number; grad: Float64Array } {
  const t = o.temperature ?? KL_DEFAULTS.temperature, weight = o.weight ?? KL_DEFAULTS.weight;
  const positions = tokens * tokens;
  const grad = new Float64Array(batch * heads * positions);
  const lq = new Float64Array(heads), diff = new Float64Array(heads);
  const logSoftmax = (a: ArrayLike<number>, base: number, out: Float64Array) => {
    let max = -Infinity;
    for (let h = 0; h < heads; h++) max = Math.max(max, a[base + h * positions] / t);
    let sum = 0;
    for (let h = 0; h < heads; h++) sum += Math.exp(a[base + h * positions] / t - max);
    const lse = max + Math.log(sum);
    for (let h = 0; h < heads; h++) out[h] = a[base + h * positions] / t - lse;
  };
  let loss = 0;
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < positions; p++) {
      const base = b * heads * positions + p;  // element (b, h, p) at base + h·positions
      logSoftmax(afp, base, diff);
      logSoftmax(aq, base, lq);
      let kl = 0;
      for (let h = 0; h < heads; h++) { diff[h] = lq[h] - diff[h]; kl += Math.exp(lq[h]) * diff[h]; }
      loss += kl;
      for (let h = 0; h < heads; h++) grad[base + h * positions] = (weight / (batch * t)) * Math.exp(lq[h]) * (diff[h] - kl);
    }
  }
  return { loss: (weight * loss) / batch, grad };
}
