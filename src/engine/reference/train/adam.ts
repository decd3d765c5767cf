/**
 * CPU twin of kernels/train/adam.ts: one torch.optim.Adam step (no weight decay) in place, float64.
 *   m ← m + (1 − β1)(g − m),  v ← β2·v + (1 − β2)·g²,
 *   p ← max(p − (lr/(1 − β1^t))·m/(√v/√(1 − β2^t) + eps), lower)
 */
export interface AdamOptions {
  lr: number;
  /** The step count t, from 1. */
  step: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Lower bound applied after the update (e.g. to keep a step size positive); none by default. */
  lower?: number;
}
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export function adamStepRef(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, o: AdamOptions): void {
  const { beta1, beta2, eps } = { ...ADAM_DEFAULTS, ...o };
  const bias1 = 1 - beta1 ** o.step, bias2 = 1 - beta2 ** o.step, lower = o.lower ?? -Infinity;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    m[i] += (1 - beta1) * (g - m[i]);
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    param[i] = Math.max(param[i] - (o.lr / bias1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bias2) + eps), lower);
  }
}
