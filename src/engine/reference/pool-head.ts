/** CPU twin of kernels/pool-head.ts: LayerNorm of the cls (and dist) rows, then the head(s). */
import { layerNormRef } from './layer-norm.ts';
import { matmulRef } from './matmul.ts';

export function poolHeadRef(x: Float32Array, gamma: Float32Array, beta: Float32Array, w: Float32Array, bias: Float32Array,
                            batch: number, tokens: number, dim: number, eps: number,
                            dist?: { w: Float32Array; bias: Float32Array }): Float32Array {
  const classes = bias.length;
  const logits = new Float32Array(batch * classes);
  for (let b = 0; b < batch; b++) {
    const row = (t: number) => layerNormRef(x.subarray((b * tokens + t) * dim, (b * tokens + t + 1) * dim), gamma, beta, 1, dim, eps);
    const cls = matmulRef(row(0), w, bias, 1, dim, classes);
    const d = dist ? matmulRef(row(1), dist.w, dist.bias, 1, dim, classes) : null;
    for (let c = 0; c < classes; c++) logits[b * classes + c] = d ? 0.5 * (cls[c] + d[c]) : cls[c];
  }
  return logits;
}
