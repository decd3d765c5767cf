/**
 * The forward passes of ASMO's modules (ADFQ §5.1) on the GPU, FP or with quantizers, in exactly the
 * order and with exactly the kernels QuantViTRunner uses, so a hardened module propagates the values
 * inference will compute. With `trace`, every intermediate the backward needs is kept (caller releases).
 */
import type { GpuContext } from '../gpu/device.ts';
import { releaseTensor, type GpuTensor } from '../gpu/tensor.ts';
import { attention, matmul } from '../kernels/index.ts';

/** A quantizer site: records x̂ of x as a new tensor. */
export type Quantizer = (enc: GPUCommandEncoder, x: GpuTensor) => GpuTensor;

export interface AttentionWeights { qkvW: GpuTensor; qkvB: GpuTensor; projW: GpuTensor; projB: GpuTensor }
export interface AttentionQuant { qkvIn: Quantizer; qkv: Quantizer; probs: Quantizer; projIn: Quantizer }
export interface AttentionTrace {
  xHat: GpuTensor; qkv: GpuTensor; qkvHat: GpuTensor; probs: GpuTensor; probsHat: GpuTensor; o: GpuTensor; oHat: GpuTensor;
}

export interface ForwardOptions {
  batch: number;
  /** Add this residual in the last matmul's epilogue (propagation), as the runner does. */
  residual?: GpuTensor;
  /** Keep the intermediates (training). */
  trace?: boolean;
}

/** Releases the listed tensors once each, skipping `keep` (inputs the caller owns) and repeats. */
function releaseAll(ctx: GpuContext, keep: readonly GpuTensor[], ts: readonly (GpuTensor | undefined)[]): void {
  const done = new Set<GPUBuffer>(keep.map((t) => t.buffer));
  for (const t of ts) if (t && !done.has(t.buffer)) { done.add(t.buffer); releaseTensor(ctx, t); }
}

const lastMatmul = (o: ForwardOptions) => (o.residual ? { epilogue: 'residual' as const, residual: o.residual } : {});

/** LN1 output → qkv → (q, k, v quantizers) → attention (probability quantizer) → proj-in quantizer → proj. */
export function attentionForward(ctx: GpuContext, enc: GPUCommandEncoder, x: GpuTensor, w: AttentionWeights, quant: AttentionQuant | null,
                                 o: ForwardOptions & { heads: number; variant?: 'workgroup' | 'rows' }): { y: GpuTensor; trace?: AttentionTrace } {
  const xHat = quant ? quant.qkvIn(enc, x) : x;
  const qkv = matmul(ctx, enc, xHat, w.qkvW, w.qkvB);
  const qkvHat = quant ? quant.qkv(enc, qkv) : qkv;
  const att = attention(ctx, enc, qkvHat, {
    batch: o.batch, heads: o.heads, variant: o.variant, keepProbs: o.trace,
    quantizeProbs: quant ? (p) => quant.probs(enc, p) : undefined,
  });
  const oHat = quant ? quant.projIn(enc, att.out) : att.out;
  const y = matmul(ctx, enc, oHat, w.projW, w.projB, lastMatmul(o));
  if (o.trace) {
    return { y, trace: { xHat, qkv, qkvHat, probs: att.probs!, probsHat: att.probsQ ?? att.probs!, o: att.out, oHat } };
  }
  releaseAll(ctx, [x], [xHat, qkv, qkvHat, att.out, oHat]);
  return { y };
}

export interface MlpWeights { fc1W: GpuTensor; fc1B: GpuTensor; fc2W: GpuTensor; fc2B: GpuTensor }
export interface MlpQuant { fc1In: Quantizer; fc2In: Quantizer }
export interface MlpTrace { xHat: GpuTensor; g: GpuTensor; gHat: GpuTensor; h?: GpuTensor }

/** LN2 output → fc1-in quantizer → fc1 + GELU → fc2-in quantizer → fc2. `preActivation` also keeps fc1's output before GELU. */
export function mlpForward(ctx: GpuContext, enc: GPUCommandEncoder, x: GpuTensor, w: MlpWeights, quant: MlpQuant | null,
                           o: ForwardOptions & { gelu: 'gelu-erf' | 'gelu-tanh'; preActivation?: boolean }): { y: GpuTensor; trace?: MlpTrace } {
  const xHat = quant ? quant.fc1In(enc, x) : x;
  const g = matmul(ctx, enc, xHat, w.fc1W, w.fc1B, { epilogue: o.gelu });
  const h = o.trace && o.preActivation ? matmul(ctx, enc, xHat, w.fc1W, w.fc1B) : undefined;
  const gHat = quant ? quant.fc2In(enc, g) : g;
  const y = matmul(ctx, enc, gHat, w.fc2W, w.fc2B, lastMatmul(o));
  if (o.trace) return { y, trace: { xHat, g, gHat, h } };
  releaseAll(ctx, [x], [xHat, g, gHat]);
  return { y };
}

export interface LinearWeights { w: GpuTensor; b: GpuTensor }

/** Input quantizer → Linear (the patch embedding on im2col patches, the head on its input row). */
export function linearForward(ctx: GpuContext, enc: GPUCommandEncoder, x: GpuTensor, w: LinearWeights, quant: Quantizer | null,
                              o: ForwardOptions): { y: GpuTensor; trace?: { xHat: GpuTensor } } {
  const xHat = quant ? quant(enc, x) : x;
  const y = matmul(ctx, enc, xHat, w.w, w.b, lastMatmul(o));
  if (o.trace) return { y, trace: { xHat } };
  releaseAll(ctx, [x], [xHat]);
  return { y };
}

export { releaseAll };
