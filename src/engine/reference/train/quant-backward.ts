/**
 * CPU twins of kernels/train/uniform-quant-backward.ts and log-quant-backward.ts: the fake quantizers'
 * gradient rules of ADFQ §5.5, float64 except for the decisions the forward takes in float32 (the quotient
 * u = f32(x/Δ), the codes, the SLQ shift S = f32(f32(x − m) + eps)), which follow the forward twins of
 * reference/quant/ exactly so that the same elements count as clamped.
 *
 * Two rules per quantizer, picked by `gradRule(mode, role)`:
 *   x gradient   'none':  ∂x̂/∂x = 0 (round without STE; PPOQ detaches its input, outliers included)
 *                'ste':   ∂x̂/∂x = 1 inside the range, 0 where clamped (PPOQ outliers pass through: 1)
 *   Δ gradient   'round': the derivative with the codes held fixed (the forward is linear in Δ between
 *                         code changes): uniform q − z for every element (clamped ones at their bound),
 *                         PPOQ 0 on outliers; log 2^(−k/2) (the f32 level of Δ = 1), 0 for the zero code
 *                'lsq':   STE through the whole map x̂ = Δ·F(x/Δ) (F' = 1 inside): F(u) − u inside, F (the
 *                         clamp bound) outside; uniform (q − z) − x/Δ inside, bound − z clamped; log
 *                         2^(−k/2) − x/Δ inside, 1 above the top level, 0 for the zero code
 * "Inside" is decided on the rounded, unclamped code, as torch's clamp mask does after round_ste:
 * uniform 0 ≤ round(x/Δ) + z ≤ L − 1; log 0 ≤ round(−2·log2(x/Δ)) < L (so x/Δ above the top-level
 * threshold U[−1] is clamped to Δ, and the zero code is clamped to 0).
 * SLQ with a dynamic shift m = min(x) (shiftGrad): the released code does not detach x.min(), so
 * x̂ = F(x − m + eps) + m − eps sends ∂L/∂m = Σ_i dy_i·(1 − ∂x̂_i/∂S_i) to the elements equal to m, shared
 * evenly among ties (torch's min() backward).
 */
import { divF32, f32, levelsOf, roundHalfEven } from '../quant/rounding.ts';
import { logCode, logIndex, logLevel, type LogBase } from '../quant/log-quant.ts';
import { paramIndex } from '../quant/uniform-quant.ts';

export type GradientMode = 'default' | 'ste-lsq';
/** Where a quantizer sits (spec §5.5): which rule the default mode gives it. */
export type QuantizerRole = 'ppoq' | 'uniform-input' | 'slq' | 'qkv' | 'softmax';
export interface GradRule { x: 'none' | 'ste'; delta: 'round' | 'lsq' }

/**
 * The default mode reproduces the released code: only q, k, v pass an STE for x (their Δ is fixed, so
 * 'round' there is never used); PPOQ (qkv/fc1 input), the uniform inputs of proj / patch-embed / head and
 * SLQ (fc2 input) round without STE and learn Δ with the codes held fixed; the post-softmax log quantizer
 * rounds without STE. 'ste-lsq' gives every quantizer the STE for x and the LSQ rule for Δ.
 */
export function gradRule(mode: GradientMode, role: QuantizerRole): GradRule {
  if (mode === 'ste-lsq') return { x: 'ste', delta: 'lsq' };
  return { x: role === 'qkv' ? 'ste' : 'none', delta: 'round' };
}

export interface QuantGrads {
  dx: Float64Array;
  ddelta: Float64Array;
  /** Σ |dy·∂x̂/∂Δ| per entry: the scale of ddelta's rounding error in a float32 sum (tests). */
  ddeltaAbs: Float64Array;
}

export interface UniformBackwardParams {
  bits: number;
  /** Per tensor (one Δ, z), per column c (q, k, v in the fused qkv) or per token position r % tokens of [rows, cols]. */
  granularity: 'tensor' | 'channel' | 'token';
  delta: Float32Array;
  zero: Float32Array;
  cols: number;
  tokens?: number;
  /** PPOQ: |x| > tau (strict, in f32) passes through. */
  tau?: number;
}

/** Per element: the rounded quotient n, the f32 quotient u, the clamped code q and whether it is inside. */
export function uniformCode(x: number, delta: number, zero: number, levels: number) {
  const u = divF32(x, delta), n = roundHalfEven(u), c = f32(n + zero);
  return { u, n, q: Math.min(Math.max(c, 0), levels - 1), inside: c >= 0 && c <= levels - 1 };
}

export function uniformQuantBackwardRef(x: Float32Array, dy: ArrayLike<number>, p: UniformBackwardParams, rule: GradRule): QuantGrads {
  const L = levelsOf(p.bits), entries = p.granularity === 'tensor' ? 1 : p.granularity === 'channel' ? p.cols : p.tokens ?? 1;
  const dx = new Float64Array(x.length), ddelta = new Float64Array(entries), ddeltaAbs = new Float64Array(entries);
  const tau = p.tau === undefined ? Infinity : f32(p.tau);
  for (let i = 0; i < x.length; i++) {
    const j = paramIndex(p, i);
    if (Math.abs(x[i]) > tau) { dx[i] = rule.x === 'ste' ? dy[i] : 0; continue; }
    const c = uniformCode(x[i], p.delta[j], p.zero[j], L);
    dx[i] = rule.x === 'ste' && c.inside ? dy[i] : 0;
    const t = dy[i] * (rule.delta === 'lsq' && c.inside ? c.n - c.u : c.q - p.zero[j]);
    ddelta[j] += t;
    ddeltaAbs[j] += Math.abs(t);
  }
  return { dx, ddelta, ddeltaAbs };
}

export interface LogBackwardParams {
  bits: number;
  delta: number;
  base?: LogBase;
  /** SLQ: the shift m (S = (x − m) + eps); absent for the plain log quantizer. */
  shift?: number;
  eps?: number;
  /** m is min(x) of this tensor and its gradient flows to the minimal elements (the released code). */
  shiftGrad?: boolean;
}

/** Where a positive f32 ratio u lies: 'zero' (code L), 'top' (round(−2·log2 u) < 0, clamped to Δ), 'inside'. */
export function logRegion(u: number, bits: number, base: LogBase = 'sqrt2'): 'zero' | 'top' | 'inside' {
  const k = logCode(u, bits, base);
  if (k === levelsOf(bits)) return 'zero';
  return logIndex(u, base) < 0 ? 'top' : 'inside';
}

export function logQuantBackwardRef(x: Float32Array, dy: ArrayLike<number>, p: LogBackwardParams, rule: GradRule): QuantGrads & { dshift: number } {
  const base = p.base ?? 'sqrt2', d = f32(p.delta), m = f32(p.shift ?? 0), eps = f32(p.eps ?? 1e-6);
  const dx = new Float64Array(x.length);
  let ddelta = 0, ddeltaAbs = 0, dshift = 0, ties = 0;
  for (let i = 0; i < x.length; i++) {
    const s = p.shift === undefined ? x[i] : f32(f32(x[i] - m) + eps);
    const u = divF32(s, d), k = logCode(u, p.bits, base), region = logRegion(u, p.bits, base);
    const ste = rule.x === 'ste' && region === 'inside';
    dx[i] = ste ? dy[i] : 0;
    const level = logLevel(k, p.bits, 1, base);  // 2^(−k/2) in f32; 0 for the zero code
    const t = dy[i] * (rule.delta === 'lsq' && region === 'inside' ? level - u : level);
    ddelta += t;
    ddeltaAbs += Math.abs(t);
    dshift += dy[i] * (ste ? 0 : 1);
    if (x[i] === m) ties++;
  }
  if (p.shift !== undefined && p.shiftGrad && ties > 0) {
    for (let i = 0; i < x.length; i++) if (x[i] === m) dx[i] += dshift / ties;
  }
  return { dx, ddelta: Float64Array.of(ddelta), ddeltaAbs: Float64Array.of(ddeltaAbs), dshift };
}

/**
 * The smallest positive f32 bit pattern u with round(−2·log2 u) ≤ −1 (base 2: round(−log2 u) ≤ −1): ratios
 * at or above it are clamped to the top level Δ. Like logThresholds' entries, found by binary search.
 */
export function logTopThreshold(base: LogBase = 'sqrt2'): number {
  let lo = 1, hi = 0x7f800000;
  const f = new Float32Array(1), b = new Uint32Array(f.buffer);
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    b[0] = mid;
    if (logIndex(f[0], base) <= -1) hi = mid; else lo = mid + 1;
  }
  return lo;
}
