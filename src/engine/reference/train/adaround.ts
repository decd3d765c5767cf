/**
 * CPU twin of kernels/train/adaround.ts: AdaRound's soft rounding of ADFQ §5.3 on a canonical [in, out]
 * Linear weight with per-output-column Δw[c], zw[c] (column c = i % cols), float64 except the quotient
 * u = f32(W/Δw) and its floor, which follow the float32 forward as the quantizer twins do.
 *   h(α) = clamp(1.2·σ(α) − 0.1, 0, 1)            (ζ = 1.1, γ = −0.1)
 *   W̃ = Δw·(clamp(floor(u) + h(α) + zw, 0, L − 1) − zw)                  soft
 *   Ŵ = Δw·(clamp(floor(u) + [α ≥ 0] + zw, 0, L − 1) − zw)                hardened (f32, exact)
 *   α₀ = −log(1.2/(r + 0.1) − 1), r = clamp(u − floor(u), 0, 1), so h(α₀) = r and |α₀| ≤ log 11
 *   ∂L/∂α = ∂L/∂W̃ · Δw · [0 ≤ floor(u) + h + zw ≤ L − 1] · h'(α),   h' = 1.2·σ(1 − σ) where 0 ≤ 1.2σ − 0.1 ≤ 1
 *   L_round = λ·Σ(1 − |2h − 1|^β),   ∂L_round/∂α = −2λβ·|2h − 1|^(β−1)·sign(2h − 1)·h'(α)
 * (clamp masks inclusive, as torch's clamp backward).
 */
import { divF32, f32, levelsOf } from '../quant/rounding.ts';

export interface AdaRoundParams {
  bits: number;
  /** Δw, zw per output column: [cols]. */
  delta: Float32Array;
  zero: Float32Array;
  /** Output columns of the [in, out] weight. */
  cols: number;
}

export const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));
export const softTarget = (a: number): number => Math.min(Math.max(1.2 * sigmoid(a) - 0.1, 0), 1);
/** h'(α), 0 where the clamp of h is active. */
export function softTargetGrad(a: number): number {
  const s = sigmoid(a), r = 1.2 * s - 0.1;
  return r >= 0 && r <= 1 ? 1.2 * s * (1 - s) : 0;
}

const floorOf = (w: number, d: number) => Math.floor(divF32(w, d));

export function adaroundInitRef(w: Float32Array, p: AdaRoundParams): Float64Array {
  return Float64Array.from(w, (v, i) => {
    const u = divF32(v, p.delta[i % p.cols]);
    const r = Math.min(Math.max(u - Math.floor(u), 0), 1);
    return -Math.log(1.2 / (r + 0.1) - 1);
  });
}

/** The soft code v = floor(u) + h(α) + zw before its clamp. */
const softCode = (w: number, a: number, d: number, z: number) => floorOf(w, d) + softTarget(a) + z;

export function softWeightsRef(w: Float32Array, alpha: ArrayLike<number>, p: AdaRoundParams): Float64Array {
  const top = levelsOf(p.bits) - 1;
  return Float64Array.from(w, (v, i) => {
    const c = i % p.cols, d = p.delta[c], z = p.zero[c];
    return d * (Math.min(Math.max(softCode(v, alpha[i], d, z), 0), top) - z);
  });
}

export function hardWeightsRef(w: Float32Array, alpha: ArrayLike<number>, p: AdaRoundParams): Float32Array {
  const top = levelsOf(p.bits) - 1;
  return Float32Array.from(w, (v, i) => {
    const c = i % p.cols, d = p.delta[c], z = p.zero[c];
    const q = Math.min(Math.max(floorOf(v, d) + (alpha[i] >= 0 ? 1 : 0) + z, 0), top);
    return f32(f32(q - z) * d);
  });
}

export interface RoundReg { coef: number; beta: number }

/** L_round = coef·Σ(1 − |2h(α) − 1|^β). */
export function roundLossRef(alpha: ArrayLike<number>, reg: RoundReg): number {
  let s = 0;
  for (let i = 0; i < alpha.length; i++) s += 1 - Math.abs(2 * softTarget(alpha[i]) - 1) ** reg.beta;
  return reg.coef * s;
}

/** ∂L/∂α from ∂L/∂W̃ (dsoft), plus the regulariser's gradient when reg is given (coef > 0). */
export function alphaGradRef(w: Float32Array, alpha: ArrayLike<number>, dsoft: ArrayLike<number>, p: AdaRoundParams,
                             reg?: RoundReg): Float64Array {
  const top = levelsOf(p.bits) - 1;
  return Float64Array.from(w, (v, i) => {
    const c = i % p.cols, d = p.delta[c], z = p.zero[c], hp = softTargetGrad(alpha[i]);
    const code = softCode(v, alpha[i], d, z);
    let g = code >= 0 && code <= top ? dsoft[i] * d * hp : 0;
    if (reg && reg.coef !== 0) {
      const t = 2 * softTarget(alpha[i]) - 1, a = Math.abs(t);
      g += a === 0 ? 0 : -2 * reg.coef * reg.beta * a ** (reg.beta - 1) * Math.sign(t) * hp;
    }
    return g;
  });
}
