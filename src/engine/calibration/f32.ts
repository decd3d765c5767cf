/**
 * Float32 arithmetic as PyTorch's CPU kernels do it, for bit-exact calibration twins. One +, −, × or ÷ of
 * two f32 values done in f64 and rounded with Math.fround is the correctly rounded f32 result
 * (53 ≥ 2·24 + 2), so each tensor op below is `fround(a op b)`.
 */
export const f32 = Math.fround;

/** torch.round / WGSL round(): ties go to the even integer (Math.round sends them up). */
export { roundHalfEven } from '../reference/quant/rounding.ts';

/**
 * f32(a + b·c) rounded once, i.e. a float32 fused multiply-add, for f32 inputs. b·c is exact in f64
 * (48 significant bits); a + b·c is then exact as s + e (TwoSum). Rounding s alone to f32 is right unless
 * s sits exactly halfway between two f32 values with e ≠ 0 (double rounding): then e picks the side.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = b * c, s = a + p;
  const bb = s - a, e = (a - (s - bb)) + (p - bb);
  const r = f32(s);
  if (e === 0 || !Number.isFinite(s)) return r;
  const other = 2 * s - r;  // exact: s and r are within one f32 ulp
  if (other === r || f32(other) !== other) return r;  // s is not a midpoint
  return e > 0 ? Math.max(r, other) : Math.min(r, other);
}
