/**
 * CPU twins of kernels/quant/uniform-quant.ts and ppoq-quant.ts (spec §2.1, §3), float32 step by step:
 * q = clamp(round(x/Δ) + z, 0, L−1), x̂ = (q − z)·Δ. Parameters broadcast by granularity over a
 * row-major [rows, cols] view: per tensor (one Δ, z), per channel (column c, e.g. the output column of a
 * canonical [in, out] Linear weight), per token (row r → token r % tokens of [B·N, C] activations).
 */
import { divF32, f32, levelsOf, roundHalfEven } from './rounding.ts';

export type Granularity = 'tensor' | 'channel' | 'token';

export interface UniformParams {
  bits: number;
  granularity: Granularity;
  /** Step sizes Δ > 0 and zero points (integers stored as floats), 1 / cols / tokens entries. */
  delta: Float32Array;
  zero: Float32Array;
  /** Row width of the [rows, cols] view (needed for 'channel' and 'token'). */
  cols: number;
  /** Token count N for 'token' (row r uses entry r % tokens). */
  tokens?: number;
}

export interface QuantResult { y: Float32Array; codes: Uint32Array }

/** Which parameter entry element i uses. */
export function paramIndex(p: UniformParams, i: number): number {
  if (p.granularity === 'tensor') return 0;
  if (p.granularity === 'channel') return i % p.cols;
  return Math.floor(i / p.cols) % (p.tokens ?? 1);
}

/** One value: its code and its fake-quantized value. */
export function uniformQuantOne(x: number, delta: number, zero: number, levels: number): [number, number] {
  const q = Math.min(Math.max(f32(roundHalfEven(divF32(x, delta)) + zero), 0), levels - 1);
  return [q, f32(f32(q - zero) * delta)];
}

export function uniformQuantRef(x: Float32Array, p: UniformParams): QuantResult {
  const y = new Float32Array(x.length), codes = new Uint32Array(x.length), L = levelsOf(p.bits);
  for (let i = 0; i < x.length; i++) {
    const j = paramIndex(p, i);
    [codes[i], y[i]] = uniformQuantOne(x[i], p.delta[j], p.zero[j], L);
  }
  return { y, codes };
}

export interface PpoqParams { bits: number; tau: number; delta: Float32Array; zero: Float32Array; cols: number; tokens: number }
export interface PpoqResult extends QuantResult { outliersPerToken: Uint32Array; outliers: number }

/**
 * PPOQ: |x| > τ (strict) passes through in FP32 with the code of 0 (the clamped z[n]); the rest is
 * quantized per token position with Δ[n], z[n].
 */
export function ppoqQuantRef(x: Float32Array, p: PpoqParams): PpoqResult {
  const u: UniformParams = { ...p, granularity: 'token' };
  const y = new Float32Array(x.length), codes = new Uint32Array(x.length), L = levelsOf(p.bits);
  const perToken = new Uint32Array(p.tokens), tau = f32(p.tau);
  for (let i = 0; i < x.length; i++) {
    const n = paramIndex(u, i), outlier = Math.abs(x[i]) > tau;
    [codes[i], y[i]] = uniformQuantOne(outlier ? 0 : x[i], p.delta[n], p.zero[n], L);
    if (outlier) { y[i] = x[i]; perToken[n]++; }
  }
  return { y, codes, outliersPerToken: perToken, outliers: perToken.reduce((a, b) => a + b, 0) };
}
