/**
 * Naming of the quantized activation sites, shared by calibration reports, the explorer's level overlay
 * and exports: the nine per-block sites of stats/types.ts that carry a quantizer, plus the two model-level
 * ones (the normalised image before the patch embedding, and the head input).
 */
import { layerNormRef } from '../reference/layer-norm.ts';
import type { SiteKind } from '../stats/types.ts';
import type { ViTModel } from '../vit/description.ts';
import type { ActQuant, BlockQuantParams, ViTQuantParams } from './params.ts';

/** Block sites in forward order; 'block-out' has no quantizer. */
export const QUANT_BLOCK_SITES = ['qkv-in', 'q', 'k', 'v', 'attn-probs', 'proj-in', 'fc1-in', 'fc2-in'] as const;
export type QuantBlockSite = (typeof QUANT_BLOCK_SITES)[number];

export type QuantSiteId = { block: number; kind: QuantBlockSite } | { block: null; kind: 'patch-in' | 'head-in' };

const FIELD: Record<QuantBlockSite, keyof BlockQuantParams> = {
  'qkv-in': 'qkvIn', q: 'q', k: 'k', v: 'v', 'attn-probs': 'probs', 'proj-in': 'projIn', 'fc1-in': 'fc1In', 'fc2-in': 'fc2In',
};

export function isQuantBlockSite(kind: string): kind is QuantBlockSite {
  return (QUANT_BLOCK_SITES as readonly string[]).includes(kind);
}

/** The activation quantizer of an explorer site, or null (block-out, or a block the params do not have). */
export function siteQuantizer(p: ViTQuantParams, site: { block: number | null; kind: SiteKind | 'patch-in' | 'head-in' }): ActQuant | null {
  if (site.kind === 'patch-in') return p.patchIn;
  if (site.kind === 'head-in') return p.headIn;
  if (site.block === null || !isQuantBlockSite(site.kind)) return null;
  const b = p.blocks[site.block];
  return b ? (b[FIELD[site.kind]] as ActQuant) : null;
}

export function siteName(s: QuantSiteId): string {
  return s.block === null ? s.kind : `block ${s.block} ${s.kind}`;
}

/** The head input of every image: final LayerNorm of the prefix row(s) of the last block's output [B·N, dim]. */
export function headInputsCpu(model: ViTModel, lastBlockOut: Float32Array, batch: number): Float32Array {
  const c = model.config, w = model.weights, take = w.headDistW ? 2 : 1;
  const out = new Float32Array(batch * take * c.dim);
  let at = 0;
  for (let bi = 0; bi < batch; bi++) for (let t = 0; t < take; t++) {
    const r = lastBlockOut.subarray((bi * c.tokens + t) * c.dim, (bi * c.tokens + t + 1) * c.dim);
    out.set(layerNormRef(r, w.normGamma, w.normBeta, 1, c.dim, c.lnEps), at);
    at += c.dim;
  }
  return out;
}
