/** CPU twin of kernels/patch-embed.ts: a direct convolution with stride = kernel = patch, sums in float64. */
export function patchEmbedRef(image: Float32Array, weight: Float32Array, bias: Float32Array, prefix: Float32Array,
                              pos: Float32Array, batch: number, channels: number, height: number, width: number,
                              patch: number, dim: number): Float32Array {
  const gridW = width / patch;
  const patches = (height / patch) * gridW;
  const prefixCount = prefix.length / dim;
  const tokens = prefixCount + patches;
  const y = new Float32Array(batch * tokens * dim);
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < prefixCount; t++) {
      for (let c = 0; c < dim; c++) y[(b * tokens + t) * dim + c] = prefix[t * dim + c] + pos[t * dim + c];
    }
    for (let p = 0; p < patches; p++) {
      const py = Math.floor(p / gridW), px = p % gridW;
      for (let c = 0; c < dim; c++) acc[c] = bias[c];
      for (let ch = 0; ch < channels; ch++) {
        for (let ky = 0; ky < patch; ky++) {
          for (let kx = 0; kx < patch; kx++) {
            const v = image[((b * channels + ch) * height + py * patch + ky) * width + px * patch + kx];
            const wo = ((ch * patch + ky) * patch + kx) * dim;
            for (let c = 0; c < dim; c++) acc[c] += v * weight[wo + c];
          }
        }
      }
      const t = prefixCount + p;
      for (let c = 0; c < dim; c++) y[(b * tokens + t) * dim + c] = acc[c] + pos[t * dim + c];
    }
  }
  return y;
}
