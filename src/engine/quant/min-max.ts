/**
 * MinMax ranges, and a small CPU calibration that tests use for fixed quantizer parameters: ranges from the
 * FP32 CPU twin's activations on a few images. Per-tensor MinMax for activations, per-column MinMax for
 * weights, PPOQ by the per-token percentile-MSE of calibration/ (§3; cheap at these sizes), SLQ and log√2
 * with Δ = the largest (shifted) value. Ranges always contain 0, so z ∈ [0, L−1]. The studio's and the
 * CLI's calibration (every method) is calibrate-gpu.ts.
 */
import { percentileMsePerToken } from '../calibration/per-group.ts';
import { rangeToUniform } from '../calibration/fake-quant-f32.ts';
import { vitForwardCpu } from '../reference/vit-forward.ts';
import type { SiteKind } from '../stats/types.ts';
import type { ViTModel } from '../vit/description.ts';
import { headInputsCpu } from './sites.ts';
import { DEFAULT_TAU_FC1, DEFAULT_TAU_QKV, SLQ_SHIFT, type Ablation, type BlockQuantParams, type ChannelQuant,
  type PpoqQuant, type UniformTensorQuant, type ViTQuantParams } from './params.ts';

const f32 = Math.fround;

export function uniformFromRange(lo: number, hi: number, bits: number): { delta: number; zero: number } {
  lo = Math.min(lo, 0); hi = Math.max(hi, 0);
  if (!(hi - lo > 1e-8)) hi = lo + 1e-8;  // an all-zero tensor still needs Δ > 0
  const r = rangeToUniform(f32(lo), f32(hi), 2 ** bits);
  return { delta: r.delta, zero: r.zeroPoint };
}

function range(x: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
  return [lo, hi];
}

export const minMaxTensor = (x: ArrayLike<number>, bits: number): UniformTensorQuant => ({ kind: 'uniform', ...uniformFromRange(...range(x), bits) });

/** Per output channel (column of [rows, cols]) MinMax. */
export function minMaxColumns(w: Float32Array, cols: number, bits: number): ChannelQuant {
  const q: ChannelQuant = { kind: 'channel', delta: [], zero: [] };
  for (let o = 0; o < cols; o++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = o; i < w.length; i += cols) { lo = Math.min(lo, w[i]); hi = Math.max(hi, w[i]); }
    const u = uniformFromRange(lo, hi, bits);
    q.delta.push(u.delta); q.zero.push(u.zero);
  }
  return q;
}

function ppoq(x: Float32Array, batch: number, tokens: number, dim: number, tau: number, bits: number): PpoqQuant {
  const init = percentileMsePerToken(x, [batch, tokens, dim], tau, bits);
  return { kind: 'ppoq', tau, delta: init.tokens.map((t) => t.delta), zero: init.tokens.map((t) => t.zeroPoint) };
}

export interface MinMaxOptions { bitsW: number; bitsA: number; ablation?: Ablation; tauQkv?: number; tauFc1?: number }

/** Parameters for every quantizer of `model` from `batch` calibration images (normalised [B, Cin, S, S]). */
export function minMaxParams(model: ViTModel, calibPixels: Float32Array, batch: number, o: MinMaxOptions): ViTQuantParams {
  const c = model.config, w = model.weights, a = o.bitsA, ab = o.ablation ?? {};
  const acts: Partial<Record<SiteKind, Float32Array>>[] = w.blocks.map(() => ({}));
  vitForwardCpu(model, calibPixels, batch, (block, kind, data) => { acts[block][kind] = data; });
  const blocks = w.blocks.map((b, i): BlockQuantParams => {
    const s = acts[i] as Record<SiteKind, Float32Array>;
    const [gMin, gMax] = range(s['fc2-in']);
    return {
      qkvW: minMaxColumns(b.qkvW, 3 * c.dim, o.bitsW), projW: minMaxColumns(b.projW, c.dim, o.bitsW),
      fc1W: minMaxColumns(b.fc1W, c.mlpDim, o.bitsW), fc2W: minMaxColumns(b.fc2W, c.dim, o.bitsW),
      qkvIn: ab.ppoqQkv ? minMaxTensor(s['qkv-in'], a) : ppoq(s['qkv-in'], batch, c.tokens, c.dim, o.tauQkv ?? DEFAULT_TAU_QKV, a),
      q: minMaxTensor(s.q, a), k: minMaxTensor(s.k, a), v: minMaxTensor(s.v, a),
      probs: ab.logProbs ? minMaxTensor(s['attn-probs'], a) : { kind: 'log', delta: range(s['attn-probs'])[1], base: 'sqrt2' },
      projIn: minMaxTensor(s['proj-in'], a),
      fc1In: ab.ppoqFc1 ? minMaxTensor(s['fc1-in'], a) : ppoq(s['fc1-in'], batch, c.tokens, c.dim, o.tauFc1 ?? DEFAULT_TAU_FC1, a),
      fc2In: ab.slq ? { kind: 'uniform', ...uniformFromRange(gMin, gMax, a) }
        : { kind: 'slq', delta: f32(f32(gMax - SLQ_SHIFT) + f32(1e-6)), base: 'sqrt2', shift: SLQ_SHIFT },
    };
  });
  const pooled = headInputsCpu(model, acts[w.blocks.length - 1]['block-out']!, batch);
  return {
    bitsW: o.bitsW, bitsA: a, blocks,
    patchIn: minMaxTensor(calibPixels, a),
    patchW: minMaxColumns(w.patchW, c.dim, o.bitsW),
    headIn: minMaxTensor(pooled, a),
    headW: minMaxColumns(w.headW, c.numClasses, o.bitsW),
    ...(w.headDistW ? { headDistW: minMaxColumns(w.headDistW, c.numClasses, o.bitsW) } : {}),
  };
}
