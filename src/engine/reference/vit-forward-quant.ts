/**
 * CPU twin of QuantViTRunner: the FP32 forward of vit-forward.ts with every quantizer of ViTQuantParams
 * applied at the same sites, in the same order, by the bit-exact quantizer twins. Weights are
 * fake-quantized once (quantizeModelWeights) and then used as FP32, like the GPU runner does.
 */
import { fakeQuantActCpu, qkvChannelParams, quantizeModelWeights } from '../quant/apply-cpu.ts';
import type { ViTQuantParams } from '../quant/params.ts';
import type { ViTModel } from '../vit/description.ts';
import { attentionRef } from './attention.ts';
import { layerNormRef } from './layer-norm.ts';
import { matmulRef } from './matmul.ts';
import { patchEmbedRef } from './patch-embed.ts';
import { uniformQuantRef } from './quant/uniform-quant.ts';
import { sliceColsRef } from './slice-cols.ts';
import type { CpuActivationTap } from './vit-forward.ts';

/** out[b·N + i, h·hd + d] = Σ_j P[b, h, i, j]·v[j, d] (sums in float64), from given (quantized) probabilities. */
export function weightedSumRef(qkv: Float32Array, probs: Float32Array, batch: number, tokens: number, heads: number, headDim: number): Float32Array {
  const dim = heads * headDim, stride = 3 * dim, out = new Float32Array(batch * tokens * dim);
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < tokens; i++) {
    const p = ((b * heads + h) * tokens + i) * tokens, o = (b * tokens + i) * dim + h * headDim;
    for (let d = 0; d < headDim; d++) {
      let acc = 0;
      for (let j = 0; j < tokens; j++) acc += probs[p + j] * qkv[(b * tokens + j) * stride + 2 * dim + h * headDim + d];
      out[o + d] = acc;
    }
  }
  return out;
}

/**
 * pixels [B, Cin, S, S] (normalised) → logits of the fake-quantized model. `qmodel` may be passed when the
 * caller already ran quantizeModelWeights (calibration loops); the tap sees each quantizer's INPUT.
 */
export function vitForwardQuantCpu(model: ViTModel, p: ViTQuantParams, pixels: Float32Array, batch: number,
                                   tap?: CpuActivationTap, qmodel = quantizeModelWeights(model, p)): Float32Array {
  const c = model.config, w = qmodel.weights, { dim, tokens, mlpDim, heads, lnEps: eps } = c, bits = p.bitsA;
  const rows = batch * tokens, hd = dim / heads;
  const image = fakeQuantActCpu(p.patchIn, pixels, c.imageSize, 1, bits);
  let x = patchEmbedRef(image, w.patchW, w.patchB, w.prefix, w.posEmbed, batch, c.inChannels, c.imageSize, c.imageSize, c.patch, dim);
  for (const [i, b] of w.blocks.entries()) {
    const q = p.blocks[i];
    const h1 = layerNormRef(x, b.ln1Gamma, b.ln1Beta, rows, dim, eps);
    const qkv = matmulRef(fakeQuantActCpu(q.qkvIn, h1, dim, tokens, bits), b.qkvW, b.qkvB, rows, dim, 3 * dim);
    const qkvQ = uniformQuantRef(qkv, { bits, granularity: 'channel', ...qkvChannelParams(q, dim), cols: 3 * dim }).y;
    const { probs } = attentionRef(qkvQ, batch, tokens, heads, hd);
    const att = weightedSumRef(qkvQ, fakeQuantActCpu(q.probs, probs, tokens, 1, bits), batch, tokens, heads, hd);
    const x2 = matmulRef(fakeQuantActCpu(q.projIn, att, dim, 1, bits), b.projW, b.projB, rows, dim, dim, 'residual', x);
    const h2 = layerNormRef(x2, b.ln2Gamma, b.ln2Beta, rows, dim, eps);
    const f = matmulRef(fakeQuantActCpu(q.fc1In, h2, dim, tokens, bits), b.fc1W, b.fc1B, rows, dim, mlpDim, c.gelu === 'tanh' ? 'gelu-tanh' : 'gelu-erf');
    x = matmulRef(fakeQuantActCpu(q.fc2In, f, mlpDim, 1, bits), b.fc2W, b.fc2B, rows, mlpDim, dim, 'residual', x2);
    if (tap) {
      tap(i, 'qkv-in', h1);
      (['q', 'k', 'v'] as const).forEach((kind, j) => tap(i, kind, sliceColsRef(qkv, rows, 3 * dim, j * dim, dim)));
      tap(i, 'attn-probs', probs); tap(i, 'proj-in', att);
      tap(i, 'fc1-in', h2); tap(i, 'fc2-in', f); tap(i, 'block-out', x);
    }
  }
  return quantHeadRef(x, qmodel, p, batch);
}

/** Final LayerNorm of the prefix row(s), the head-input quantizer, the head(s); DeiT-distilled averages two. */
function quantHeadRef(x: Float32Array, qmodel: ViTModel, p: ViTQuantParams, batch: number): Float32Array {
  const { dim, tokens, numClasses: k, lnEps } = qmodel.config, w = qmodel.weights;
  const head = (t: number, hw: Float32Array, hb: Float32Array) => {
    const rows = new Float32Array(batch * dim);
    for (let b = 0; b < batch; b++) rows.set(x.subarray((b * tokens + t) * dim, (b * tokens + t + 1) * dim), b * dim);
    const h = fakeQuantActCpu(p.headIn, layerNormRef(rows, w.normGamma, w.normBeta, batch, dim, lnEps), dim, 1, p.bitsA);
    return matmulRef(h, hw, hb, batch, dim, k);
  };
  const cls = head(0, w.headW, w.headB);
  if (!w.headDistW || !w.headDistB) return cls;
  const d = head(1, w.headDistW, w.headDistB);
  return cls.map((v, i) => 0.5 * (v + d[i]));
}
