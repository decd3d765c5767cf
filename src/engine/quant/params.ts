/**
 * Every quantizer of a ViT as plain data (JSON-serialisable: numbers and arrays only), per ADFQ.md §1.
 * Weights are per output channel; in our [in, out] Linear layout a channel is a COLUMN. Activation sites
 * carry a discriminated union so ablations (PPOQ → uniform, SLQ → uniform, log√2 → uniform) are data,
 * not code paths chosen elsewhere.
 */
import type { LogBase } from '../reference/quant/log-quant.ts';
import type { WeightRounding } from './weight-rounding.ts';

/** Uniform asymmetric per tensor: x̂ = (clamp(round(x/Δ) + z, 0, L−1) − z)·Δ. */
export interface UniformTensorQuant { kind: 'uniform'; delta: number; zero: number }
/** Uniform asymmetric per output channel (weight column). */
export interface ChannelQuant { kind: 'channel'; delta: number[]; zero: number[] }
/** PPOQ (§3): per token position Δ[n], z[n]; |x| > τ passes in FP32. */
export interface PpoqQuant { kind: 'ppoq'; tau: number; delta: number[]; zero: number[] }
/** SLQ (§4) with a constant shift m (the deterministic form §4 allows), eps = f32(1e-6). */
export interface SlqQuant { kind: 'slq'; delta: number; base: LogBase; shift: number }
/** log√2 (or log2) on non-negative values, Δ the largest level (§2.4). */
export interface LogQuant { kind: 'log'; delta: number; base: LogBase }

export type ActQuant = UniformTensorQuant | PpoqQuant | SlqQuant | LogQuant;

export interface BlockQuantParams {
  qkvW: ChannelQuant; projW: ChannelQuant; fc1W: ChannelQuant; fc2W: ChannelQuant;
  /** LN1 output: PPOQ (τ 5) or, for ablation, uniform per tensor. */
  qkvIn: PpoqQuant | UniformTensorQuant;
  /** q, k, v: uniform per tensor each (inside the fused qkv). */
  q: UniformTensorQuant; k: UniformTensorQuant; v: UniformTensorQuant;
  /** Post-softmax probabilities: log√2 or, for ablation, uniform. */
  probs: LogQuant | UniformTensorQuant;
  projIn: UniformTensorQuant;
  /** LN2 output: PPOQ (τ 10) or uniform. */
  fc1In: PpoqQuant | UniformTensorQuant;
  /** GELU output: SLQ or uniform. */
  fc2In: SlqQuant | UniformTensorQuant;
}

export interface ViTQuantParams {
  bitsW: number;
  bitsA: number;
  /** The normalised image, before the patch embedding. */
  patchIn: UniformTensorQuant;
  /** Patch-embed conv flattened to [Cin·p·p, dim]. */
  patchW: ChannelQuant;
  blocks: BlockQuantParams[];
  /** The final-LayerNormed prefix token(s) (cls, and dist for DeiT-distilled), before the head(s). */
  headIn: UniformTensorQuant;
  headW: ChannelQuant;
  headDistW?: ChannelQuant;
  /** AdaRound's hardened rounding after ASMO (weight-rounding.ts); layers without a mask round to nearest. */
  rounding?: WeightRounding;
}

/** The weights' quantizers only: what calibration starts from (activations stay FP32 until calibrated). */
export type WeightQuantParams = Pick<ViTQuantParams, 'bitsW' | 'bitsA' | 'patchW' | 'headW' | 'headDistW' | 'rounding'> & {
  blocks: Pick<BlockQuantParams, 'qkvW' | 'projW' | 'fc1W' | 'fc2W'>[];
};

/** Which ADFQ quantizers are replaced by per-tensor uniform ones (ablations); all false = ADFQ. */
export interface Ablation { ppoqQkv?: boolean; ppoqFc1?: boolean; slq?: boolean; logProbs?: boolean }

export const DEFAULT_TAU_QKV = 5;
export const DEFAULT_TAU_FC1 = 10;
/**
 * SLQ's constant shift: just below the minimum of both GELU forms (erf ≈ −0.169971, tanh ≈ −0.170041),
 * so S = x − m + eps stays positive for any input. An f32 value, so the runner (which holds it in f32)
 * and calibration (which computes f32(x − m) in double) subtract the same number.
 */
export const SLQ_SHIFT = Math.fround(-0.17005);
