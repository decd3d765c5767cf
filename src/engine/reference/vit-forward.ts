/**
 * CPU twin of the whole FP32 ViT forward pass, composed from the kernel twins exactly as the GPU runner
 * composes the kernels: the readable specification of the model, and the oracle for importer tests.
 */
import type { SiteKind } from '../stats/types.ts';
import type { ViTModel } from '../vit/description.ts';
import { attentionRef } from './attention.ts';
import { layerNormRef } from './layer-norm.ts';
import { matmulRef } from './matmul.ts';
import { patchEmbedRef } from './patch-embed.ts';
import { poolHeadRef } from './pool-head.ts';
import { sliceColsRef } from './slice-cols.ts';

/** Twin of the GPU runner's ActivationTap: each site's tensor, attention probabilities as [B, H, N, N]. */
export type CpuActivationTap = (block: number, kind: SiteKind, data: Float32Array) => void;

/** pixels [B, Cin, S, S] (already normalised) → logits [B, numClasses]. */
export function vitForwardCpu(model: ViTModel, pixels: Float32Array, batch: number, tap?: CpuActivationTap): Float32Array {
  const c = model.config, w = model.weights, { dim, tokens, mlpDim, heads, lnEps: eps } = c;
  const rows = batch * tokens;
  let x = patchEmbedRef(pixels, w.patchW, w.patchB, w.prefix, w.posEmbed, batch, c.inChannels, c.imageSize, c.imageSize, c.patch, dim);
  for (const [i, b] of w.blocks.entries()) {
    const h1 = layerNormRef(x, b.ln1Gamma, b.ln1Beta, rows, dim, eps);
    const qkv = matmulRef(h1, b.qkvW, b.qkvB, rows, dim, 3 * dim);
    const att = attentionRef(qkv, batch, tokens, heads, dim / heads);
    const x2 = matmulRef(att.out, b.projW, b.projB, rows, dim, dim, 'residual', x);
    const h2 = layerNormRef(x2, b.ln2Gamma, b.ln2Beta, rows, dim, eps);
    const f = matmulRef(h2, b.fc1W, b.fc1B, rows, dim, mlpDim, c.gelu === 'tanh' ? 'gelu-tanh' : 'gelu-erf');
    x = matmulRef(f, b.fc2W, b.fc2B, rows, mlpDim, dim, 'residual', x2);
    if (tap) {
      tap(i, 'qkv-in', h1);
      (['q', 'k', 'v'] as const).forEach((kind, j) => tap(i, kind, sliceColsRef(qkv, rows, 3 * dim, j * dim, dim)));
      tap(i, 'attn-probs', att.probs);
      tap(i, 'proj-in', att.out);
      tap(i, 'fc1-in', h2);
      tap(i, 'fc2-in', f);
      tap(i, 'block-out', x);
    }
  }
  const dist = w.headDistW && w.headDistB ? { w: w.headDistW, bias: w.headDistB } : undefined;
  return poolHeadRef(x, w.normGamma, w.normBeta, w.headW, w.headB, batch, tokens, dim, eps, dist);
}
