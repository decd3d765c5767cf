/**
 * CPU twin of kernels/train/recon-loss.ts: L_rec = Σ_{b,n,c}(ŷ − y)²/(B·C) of ADFQ §5.4 (summed over the
 * tokens, mean over batch and channels) and ∂L_rec/∂ŷ = 2(ŷ − y)/(B·C); float64.
 */
export function reconLossRef(pred: ArrayLike<number>, target: ArrayLike<number>, batch: number, channels: number): { loss: number; grad: Float64Array } {
  const coef = 1 / (batch * channels);
  const grad = new Float64Array(pred.length);
  let loss = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - target[i];
    loss += d * d;
    grad[i] = 2 * coef * d;
  }
  return { loss: coef * loss, grad };
}
