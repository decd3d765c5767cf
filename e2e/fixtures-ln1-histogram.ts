// CPU twin of the explorer's block-0 'qkv-in' histogram: decode and preprocess the same images with the
// engine's image pipeline, run patch embedding and block 0's first LayerNorm with the reference twins
// (f64 sums, rounded to f32 on store), and bin the result with histogramRef over the page's [lo, hi].
// Run: node --import ./tools/node-loader.mjs e2e/fixtures-ln1-histogram.ts < request.json
// request: { model: path, images: [path], spec: PreprocessSpec, lo, hi, bins } → stdout: JSON counts, and
// `nearEdge[k]`: how many values lie so close to edge k (k = 0: lo, k = bins: hi) that f32 rounding on the
// GPU could put them on the other side of it (within 2e-5·max(1, |x|), well above f32 LayerNorm error).
import { readFileSync } from 'node:fs';
import { imageBytesToTensor } from '../src/engine/image/index.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { layerNormRef } from '../src/engine/reference/layer-norm.ts';
import { patchEmbedRef } from '../src/engine/reference/patch-embed.ts';
import { binOf, histogramRef, histogramScale } from '../src/engine/reference/stats/histogram.ts';

const req = JSON.parse(readFileSync(0, 'utf8'));
const model = importViT(new Uint8Array(readFileSync(req.model)));
const c = model.config, w = model.weights;
const outputs: Float32Array[] = [];
for (const path of req.images as string[]) {
  const pixels = imageBytesToTensor(new Uint8Array(readFileSync(path)), path, req.spec);
  const x = patchEmbedRef(pixels, w.patchW, w.patchB, w.prefix, w.posEmbed, 1, c.inChannels, c.imageSize, c.imageSize, c.patch, c.dim);
  const b0 = w.blocks[0];
  outputs.push(layerNormRef(x, b0.ln1Gamma, b0.ln1Beta, c.tokens, c.dim, c.lnEps));
}
const { bins, lo, hi } = req;
const h = histogramRef(outputs, { bins, lo, hi });
const scale = histogramScale(bins, Math.fround(lo), Math.fround(hi));
// Bin as an ordered index: under → -1, bins 0..bins-1, over → bins.
const rank = (x: number) => { const b = binOf(x, bins, Math.fround(lo), Math.fround(hi), scale); return b === bins ? -1 : b === bins + 1 ? bins : b; };
const nearEdge = new Array(bins + 1).fill(0);
for (const out of outputs) {
  for (const v of out) {
    const tol = 2e-5 * Math.max(1, Math.abs(v));
    const a = rank(v - tol), b = rank(v + tol);
    for (let k = a + 1; k <= b; k++) nearEdge[k]++;  // edge k separates rank k-1 from rank k
  }
}
process.stdout.write(JSON.stringify({ counts: [...h.counts], under: h.under, over: h.over, nans: h.nans, nearEdge, values: outputs.length * c.tokens * c.dim }));
