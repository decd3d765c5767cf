/**
 * CPU twin of kernels/train/attention-kl.ts: the attention term of ADFQ §5.4 and its gradient w.r.t. the
 * quantized model's attention maps A_q [B, H, N, N]; float64.
 *   P_q = softmax of A_q/T over one axis, P_fp likewise from A_fp: the HEAD axis (per (b, i, j), the
 *   released code's term) or the KEY axis (per query row (b, h, i), spec §5.5's "KL over the key axis" mode),
 *   L = weight · Σ_{b,h,i,j} P_q·(log P_q − log P_fp) / B.
 * With z = A_q/T, l = log P_q, r = log P_fp and KL = Σ P_q(l − r) over one softmax group:
 *   ∂L/∂A_q = weight/(B·T) · P_q · ((l − r) − KL).
 * Log-softmaxes are max-subtracted, so no probability is formed before its logarithm.
 */
export type KlAxis = 'heads' | 'keys';
export interface AttentionKlOptions { temperature?: number; weight?: number; axis?: KlAxis }
export const KL_DEFAULTS = { temperature: 4, weight: 10, axis: 'heads' } as const;

/**
 * The softmax groups of a [B, H, N, N] map: `count` groups of `len` elements, group g's element t at
 * (g / inner)·len·inner + g % inner + t·inner (heads: inner = N², len = H; keys: inner = 1, len = N).
 */
export function klGroups(batch: number, heads: number, tokens: number, axis: KlAxis): { count: number; len: number; inner: number } {
  const positions = tokens * tokens;
  return axis === 'heads' ? { count: batch * positions, len: heads, inner: positions } : { count: batch * heads * tokens, len: tokens, inner: 1 };
}

export function attentionKlRef(aq: ArrayLike<number>, afp: ArrayLike<number>, batch: number, heads: number, tokens: number,
                               o: AttentionKlOptions = {}): { loss: number; grad: Float64Array } {
  const t = o.temperature ?? KL_DEFAULTS.temperature, weight = o.weight ?? KL_DEFAULTS.weight;
  const { count, len, inner } = klGroups(batch, heads, tokens, o.axis ?? KL_DEFAULTS.axis);
  const grad = new Float64Array(batch * heads * tokens * tokens);
  const lq = new Float64Array(len), diff = new Float64Array(len);
  const logSoftmax = (a: ArrayLike<number>, base: number, out: Float64Array) => {
    let max = -Infinity;
    for (let k = 0; k < len; k++) max = Math.max(max, a[base + k * inner] / t);
    let sum = 0;
    for (let k = 0; k < len; k++) sum += Math.exp(a[base + k * inner] / t - max);
    const lse = max + Math.log(sum);
    for (let k = 0; k < len; k++) out[k] = a[base + k * inner] / t - lse;
  };
  let loss = 0;
  for (let g = 0; g < count; g++) {
    const base = Math.floor(g / inner) * len * inner + (g % inner);
    logSoftmax(afp, base, diff);
    logSoftmax(aq, base, lq);
    let kl = 0;
    for (let k = 0; k < len; k++) { diff[k] = lq[k] - diff[k]; kl += Math.exp(lq[k]) * diff[k]; }
    loss += kl;
    for (let k = 0; k < len; k++) grad[base + k * inner] = (weight / (batch * t)) * Math.exp(lq[k]) * (diff[k] - kl);
  }
  return { loss: (weight * loss) / batch, grad };
}
