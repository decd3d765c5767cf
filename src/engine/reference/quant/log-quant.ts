/**
 * CPU twins of kernels/quant/log-quant.ts: the log√2 quantizer (spec §2.4), its base-2 option, and SLQ
 * (§4), float32 step by step as the reference computes them (vectors README §3, §4):
 *   u = x/Δ;  k = round(−2·log2(u)) (base 2: round(−log2(u)));  zero code L when k ≥ L or u ≤ 0/NaN;
 *   else k = max(k, 0) and x̂ = 2^(−ceil(k/2))·(k odd ? f32(√2) : 1)·Δ (base 2: 2^(−k)·Δ).
 * log2 is Math.log2 rounded to float32, i.e. a correctly rounded float32 log2 (up to float64 error).
 */
import { bitsF32, divF32, f32, levelsOf, roundHalfEven } from './rounding.ts';

export type LogBase = 'sqrt2' | '2';
export interface LogParams { bits: number; delta: number; base?: LogBase }
export interface LogResult { y: Float32Array; codes: Uint32Array }

export const SQRT2_F32 = f32(Math.SQRT2);

/** Unclamped level index of a float32 ratio u = x/Δ > 0; −inf/+inf at the ends, NaN for u ≤ 0. */
export function logIndex(u: number, base: LogBase = 'sqrt2'): number {
  const lg = f32(Math.log2(u));
  return roundHalfEven(base === 'sqrt2' ? f32(-2 * lg) : -lg);
}

/** The code of u: 0..L−1, or L (exact zero) for k ≥ L, u ≤ 0 or NaN. */
export function logCode(u: number, bits: number, base: LogBase = 'sqrt2'): number {
  const L = levelsOf(bits);
  if (!(u > 0)) return L;
  const k = logIndex(u, base);
  return k >= L ? L : Math.max(k, 0);
}

/** The dequantized level of code k (0 for the zero code L). */
export function logLevel(k: number, bits: number, delta: number, base: LogBase = 'sqrt2'): number {
  if (k >= levelsOf(bits)) return 0;
  if (base === '2') return f32(f32(2 ** -k) * delta);
  return f32(f32(f32(2 ** -Math.ceil(k / 2)) * (k % 2 ? SQRT2_F32 : 1)) * delta);
}

export function logQuantRef(x: Float32Array, p: LogParams): LogResult {
  const y = new Float32Array(x.length), codes = new Uint32Array(x.length), d = f32(p.delta);
  for (let i = 0; i < x.length; i++) {
    codes[i] = logCode(divF32(x[i], d), p.bits, p.base);
    y[i] = logLevel(codes[i], p.bits, d, p.base);
  }
  return { y, codes };
}

export interface SlqParams extends LogParams {
  /** The shift m: min of the current tensor (dynamic, as the reference) or a constant (e.g. −0.16997). */
  shift: number;
  /** Added after the shift; float32(1e-6) by default. */
  eps?: number;
}

/** SLQ: S = (x − m) + eps, Ŝ = log√2(S), x̂ = (Ŝ + m) − eps, each one float32 operation. */
export function slqQuantRef(x: Float32Array, p: SlqParams): LogResult {
  const m = f32(p.shift), eps = f32(p.eps ?? 1e-6);
  const s = x.map((v) => f32(f32(v - m) + eps));
  const r = logQuantRef(s, p);
  return { y: r.y.map((v) => f32(f32(v + m) - eps)), codes: r.codes };
}

/**
 * Decision thresholds as float32 bit patterns: U[j] is the smallest positive float32 u with
 * logIndex(u) ≤ j, so code(u) = #{ j < L : u < U[j] } (L when u is below all of them). The GPU compares
 * the bits of the exact quotient against these instead of evaluating log2 (whose WGSL precision is
 * implementation-defined). logIndex is non-increasing in u, so a binary search over the bit patterns
 * of positive floats (ordered like the floats) finds each threshold.
 */
export function logThresholds(bits: number, base: LogBase = 'sqrt2'): Uint32Array {
  const L = levelsOf(bits), out = new Uint32Array(L);
  for (let j = 0; j < L; j++) {
    let lo = 1, hi = 0x7f800000;  // logIndex(+inf) = −inf ≤ j always
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (logIndex(bitsF32(mid), base) <= j) hi = mid; else lo = mid + 1;
    }
    out[j] = lo;
  }
  return out;
}
