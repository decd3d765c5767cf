/**
 * ADFQ.md §1 initial quantizer parameters (no ASMO) and the "percentile" baseline, calibrated on the
 * CPU like min-max.ts: activations come from the FP32 CPU twin on the calibration images.
 *
 * NOTE: §5.2 initialises each module's activation quantizers from the activations of the QUANTIZED
 * model (all earlier modules quantized). Here every site is calibrated on FP32 activations; the
 * quantized-model refinement (module by module on the GPU runner's taps) is later work.
 *
 *  - weights: per output column percentile-MSE (§2.2);
 *  - qkv / fc1 inputs: PPOQ per-token percentile-MSE, τ 5 / 10 (§3);
 *  - fc2 input: SLQ with the CONSTANT shift SLQ_SHIFT (what params.ts and the GPU runner apply), Δ by
 *    log√2 percentile-MSE on S = (x − SLQ_SHIFT) + 1e-6 (§4);
 *  - post-softmax probabilities: log√2 percentile-MSE (§2.4);
 *  - q, k, v: 2-D grid search (§2.3), exact on small tensors, the 65,536-bin histogram form on large ones;
 *  - proj, patch-embed and head inputs: per-tensor percentile-MSE.
 * An ablated site (PPOQ, SLQ, log√2) falls back to per-tensor percentile-MSE uniform.
 */
import { f32 } from '../calibration/f32.ts';
import { gridSearch, type GridInit } from '../calibration/grid-search.ts';
import { gridSearchHistogram } from '../calibration/grid-search-histogram.ts';
import { percentileMsePerColumn, percentileMsePerToken, SLQ_EPS } from '../calibration/per-group.ts';
import { percentileMseLogSqrt2, percentileMseUniform } from '../calibration/percentile-mse.ts';
import { layerNormRef } from '../reference/layer-norm.ts';
import { vitForwardCpu } from '../reference/vit-forward.ts';
import type { SiteKind } from '../stats/types.ts';
import type { ViTModel } from '../vit/description.ts';
import { minMaxColumns, minMaxTensor } from './min-max.ts';
import { DEFAULT_TAU_FC1, DEFAULT_TAU_QKV, SLQ_SHIFT, type Ablation, type BlockQuantParams, type ChannelQuant,
  type LogQuant, type PpoqQuant, type SlqQuant, type UniformTensorQuant, type ViTQuantParams } from './params.ts';

export interface AdfqOptions { bitsW: number; bitsA: number; ablation?: Ablation; tauQkv?: number; tauFc1?: number }

/** Above this many values q/k/v use the histogram grid search (exact: 100·L passes over every value). */
export const GRID_EXACT_MAX_VALUES = 200_000;
/**
 * The CPU search's budget in value·candidate score evaluations per tensor (~1 s in JS). Past it the
 * histogram form is used with fewer bins: 100·L candidates × bins ≤ budget, never under 256 bins.
 * calibration/README.md measured the coarse forms: 1,024 bins (bin means) picked the exact search's range
 * on 12/15 heavy-tailed tensors at 4 and 11/15 at 6 bit, the misses one to four steps of i away (Δ within
 * 2.3e-2 relative); 256 bins only 3/15 (Δ within 8.6e-2) — at 8 bit (256 bins) the pick is approximate. Measured on the demo at 32 images: the exact search took ~530 s at 8 bit, so a
 * budget is needed until the GPU grid search exists.
 */
export const GRID_WORK_BUDGET = 6e6;
export const GRID_MIN_BINS = 256;
export const GRID_MAX_BINS = 65536;

export const okDelta = (d: number) => Number.isFinite(d) && d > 0;

/** Per-tensor percentile-MSE uniform; a degenerate (constant) tensor falls back to MinMax. */
export function percentileTensor(x: ArrayLike<number>, bits: number): UniformTensorQuant {
  const r = percentileMseUniform(x, bits);
  return okDelta(r.delta) && Number.isFinite(r.zeroPoint) ? { kind: 'uniform', delta: r.delta, zero: r.zeroPoint } : minMaxTensor(x, bits);
}

/** Per output column ([rows, cols] weight) percentile-MSE; a constant column falls back to MinMax. */
export function percentileColumns(w: Float32Array, cols: number, bits: number): ChannelQuant {
  return columnsFromInits(w, cols, bits, percentileMsePerColumn(w, w.length / cols, cols, bits));
}

/** Per-column inits as a ChannelQuant; a column whose init is degenerate (constant) takes its MinMax range. */
export function columnsFromInits(w: Float32Array, cols: number, bits: number, inits: readonly { delta: number; zeroPoint: number }[]): ChannelQuant {
  if (inits.every((r) => okDelta(r.delta) && Number.isFinite(r.zeroPoint))) {
    return { kind: 'channel', delta: inits.map((r) => r.delta), zero: inits.map((r) => r.zeroPoint) };
  }
  const mm = minMaxColumns(w, cols, bits);
  inits.forEach((r, o) => { if (okDelta(r.delta) && Number.isFinite(r.zeroPoint)) { mm.delta[o] = r.delta; mm.zero[o] = r.zeroPoint; } });
  return mm;
}

function ppoq(x: Float32Array, batch: number, tokens: number, dim: number, tau: number, bits: number): PpoqQuant {
  const init = percentileMsePerToken(x, [batch, tokens, dim], tau, bits);
  return { kind: 'ppoq', tau, delta: init.tokens.map((t) => (okDelta(t.delta) ? t.delta : 1e-8)), zero: init.tokens.map((t) => (okDelta(t.delta) ? t.zeroPoint : 0)) };
}

function logProbs(x: Float32Array, bits: number): LogQuant | UniformTensorQuant {
  const r = percentileMseLogSqrt2(x, bits);
  return okDelta(r.delta) ? { kind: 'log', delta: r.delta, base: 'sqrt2' } : percentileTensor(x, bits);
}

/** SLQ with the constant shift the runner applies: S = f32(x − m) + eps, Δ by log√2 percentile-MSE on S. */
function slq(x: Float32Array, bits: number): SlqQuant {
  const s = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) s[i] = f32(x[i] - SLQ_SHIFT) + SLQ_EPS;
  const r = percentileMseLogSqrt2(s, bits);
  return { kind: 'slq', delta: okDelta(r.delta) ? r.delta : f32(1e-6), base: 'sqrt2', shift: SLQ_SHIFT };
}

/** Histogram bins for the grid search at `bits` under GRID_WORK_BUDGET. */
export function gridBins(bits: number): number {
  const fit = Math.floor(GRID_WORK_BUDGET / (100 * 2 ** bits));
  return Math.max(GRID_MIN_BINS, Math.min(GRID_MAX_BINS, fit));
}

/** §2.3 grid search; the histogram form when the tensor (or the exact search's work) is large. */
export function gridTensor(x: Float32Array, bits: number): UniformTensorQuant {
  const candidates = 100 * 2 ** bits;
  let g: GridInit;
  try {
    if (x.length <= GRID_EXACT_MAX_VALUES && x.length * candidates <= GRID_WORK_BUDGET) g = gridSearch(x, bits);
    else g = gridSearchHistogram(x, bits, { bins: gridBins(bits) });
  } catch {
    return minMaxTensor(x, bits);  // every candidate degenerate (e.g. an all-zero tensor)
  }
  return { kind: 'uniform', delta: g.delta, zero: g.zeroPoint };
}

/** Activations of every site from the FP32 CPU twin, and the head input (final LN of the prefix rows). */
function fpActivations(model: ViTModel, calibPixels: Float32Array, batch: number) {
  const c = model.config, w = model.weights;
  const acts: Partial<Record<SiteKind, Float32Array>>[] = w.blocks.map(() => ({}));
  vitForwardCpu(model, calibPixels, batch, (block, kind, data) => { acts[block][kind] = data; });
  const last = acts[w.blocks.length - 1]['block-out']!, take = w.headDistW ? 2 : 1;
  const pooled = new Float32Array(batch * take * c.dim);
  let at = 0;
  for (let bi = 0; bi < batch; bi++) for (let t = 0; t < take; t++) {
    const r = last.subarray((bi * c.tokens + t) * c.dim, (bi * c.tokens + t + 1) * c.dim);
    pooled.set(layerNormRef(r, w.normGamma, w.normBeta, 1, c.dim, c.lnEps), at); at += c.dim;
  }
  return { acts: acts as Record<SiteKind, Float32Array>[], pooled };
}

function weightParams(model: ViTModel, bitsW: number) {
  const c = model.config, w = model.weights;
  return {
    blocks: w.blocks.map((b) => ({
      qkvW: percentileColumns(b.qkvW, 3 * c.dim, bitsW), projW: percentileColumns(b.projW, c.dim, bitsW),
      fc1W: percentileColumns(b.fc1W, c.mlpDim, bitsW), fc2W: percentileColumns(b.fc2W, c.dim, bitsW),
    })),
    patchW: percentileColumns(w.patchW, c.dim, bitsW),
    headW: percentileColumns(w.headW, c.numClasses, bitsW),
    ...(w.headDistW ? { headDistW: percentileColumns(w.headDistW, c.numClasses, bitsW) } : {}),
  };
}

/** ADFQ's §1 quantizers for `model` from `batch` calibration images (normalised [B, Cin, S, S]). */
export function adfqParams(model: ViTModel, calibPixels: Float32Array, batch: number, o: AdfqOptions): ViTQuantParams {
  const c = model.config, a = o.bitsA, ab = o.ablation ?? {};
  const { acts, pooled } = fpActivations(model, calibPixels, batch);
  const wq = weightParams(model, o.bitsW);
  const blocks = acts.map((s, i): BlockQuantParams => ({
    ...wq.blocks[i],
    qkvIn: ab.ppoqQkv ? percentileTensor(s['qkv-in'], a) : ppoq(s['qkv-in'], batch, c.tokens, c.dim, o.tauQkv ?? DEFAULT_TAU_QKV, a),
    q: gridTensor(s.q, a), k: gridTensor(s.k, a), v: gridTensor(s.v, a),
    probs: ab.logProbs ? percentileTensor(s['attn-probs'], a) : logProbs(s['attn-probs'], a),
    projIn: percentileTensor(s['proj-in'], a),
    fc1In: ab.ppoqFc1 ? percentileTensor(s['fc1-in'], a) : ppoq(s['fc1-in'], batch, c.tokens, c.dim, o.tauFc1 ?? DEFAULT_TAU_FC1, a),
    fc2In: ab.slq ? percentileTensor(s['fc2-in'], a) : slq(s['fc2-in'], a),
  }));
  return {
    bitsW: o.bitsW, bitsA: a, blocks,
    patchIn: percentileTensor(calibPixels, a), patchW: wq.patchW,
    headIn: percentileTensor(pooled, a), headW: wq.headW,
    ...(wq.headDistW ? { headDistW: wq.headDistW } : {}),
  };
}

/** The "percentile" baseline: per-tensor percentile-MSE uniform for EVERY activation, per-column percentile-MSE weights. */
export function percentileParams(model: ViTModel, calibPixels: Float32Array, batch: number, o: { bitsW: number; bitsA: number }): ViTQuantParams {
  const a = o.bitsA;
  const { acts, pooled } = fpActivations(model, calibPixels, batch);
  const wq = weightParams(model, o.bitsW);
  const blocks = acts.map((s, i): BlockQuantParams => ({
    ...wq.blocks[i],
    qkvIn: percentileTensor(s['qkv-in'], a),
    q: percentileTensor(s.q, a), k: percentileTensor(s.k, a), v: percentileTensor(s.v, a),
    probs: percentileTensor(s['attn-probs'], a), projIn: percentileTensor(s['proj-in'], a),
    fc1In: percentileTensor(s['fc1-in'], a), fc2In: percentileTensor(s['fc2-in'], a),
  }));
  return {
    bitsW: o.bitsW, bitsA: a, blocks,
    patchIn: percentileTensor(calibPixels, a), patchW: wq.patchW,
    headIn: percentileTensor(pooled, a), headW: wq.headW,
    ...(wq.headDistW ? { headDistW: wq.headDistW } : {}),
  };
}

/** Every ADFQ quantizer ablated: minMaxParams then is per-tensor MinMax on every activation (the "minmax" method). */
export const ALL_ABLATED: Required<Ablation> = { ppoqQkv: true, ppoqFc1: true, slq: true, logProbs: true };
