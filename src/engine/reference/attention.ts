/**
 * CPU twin of kernels/attention.ts: per (batch, head, query) a max-subtracted softmax, sums in float64.
 * Outputs are float32 like the GPU's unless `ArrayType` is Float64Array (float64 throughout, for the finite
 * differences of reference/train/attention-backward.ts).
 */
export function attentionRef<T extends Float32Array | Float64Array = Float32Array>(
  qkv: ArrayLike<number>, batch: number, tokens: number, heads: number, headDim: number,
  scale = 1 / Math.sqrt(headDim), ArrayType: new (length: number) => T = Float32Array as unknown as new (length: number) => T,
): { out: T; probs: T } {
  const dim = heads * headDim;
  const stride = 3 * dim;
  const out = new ArrayType(batch * tokens * dim);
  const probs = new ArrayType(batch * heads * tokens * tokens);
  const s = new Float64Array(tokens);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tokens; i++) {
        const q = (b * tokens + i) * stride + h * headDim;
        let max = -Infinity;
        for (let j = 0; j < tokens; j++) {
          const k = (b * tokens + j) * stride + dim + h * headDim;
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += qkv[q + d] * qkv[k + d];
          s[j] = dot * scale;
          if (s[j] > max) max = s[j];
        }
        let sum = 0;
        for (let j = 0; j < tokens; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
        const p = ((b * heads + h) * tokens + i) * tokens;
        for (let j = 0; j < tokens; j++) { s[j] /= sum; probs[p + j] = s[j]; }
        const o = (b * tokens + i) * dim + h * headDim;
        for (let d = 0; d < headDim; d++) {
          let acc = 0;
          for (let j = 0; j < tokens; j++) acc += s[j] * qkv[(b * tokens + j) * stride + 2 * dim + h * headDim + d];
          out[o + d] = acc;
        }
      }
    }
  }
  return { out, probs };
}
