/**
 * Float32 helpers shared by the quantizer twins. The reference implementation rounds half to even
 * (torch.round) and evaluates every step in float32, so the twins round with Math.fround after each
 * operation. JS division of two float32 values in float64, rounded once more to float32, is the correctly
 * rounded float32 quotient (double rounding is innocuous for ÷ when 53 ≥ 2·24 + 2).
 */
export const f32 = Math.fround;

/** Round half to even (torch.round, WGSL round()); ±inf and NaN pass through. */
export function roundHalfEven(v: number): number {
  if (!Number.isFinite(v)) return v;
  const r = Math.round(v);                  // half rounds up (towards +inf) here
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The float32 quotient x/Δ, correctly rounded. */
export const divF32 = (x: number, d: number): number => f32(x / d);

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
export function f32Bits(v: number): number { scratch[0] = v; return scratchBits[0]; }
export function bitsF32(b: number): number { scratchBits[0] = b >>> 0; return scratch[0]; }

export const levelsOf = (bits: number): number => 2 ** bits;
