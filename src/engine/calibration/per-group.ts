/**
 * Percentile-MSE over the groups ADFQ calibrates separately: weight output channels, PPOQ token
 * positions, and the shifted SLQ tensor. Inputs are row-major f32 in the engine's canonical layouts.
 */
import { ShapeError } from '../errors.ts';
import { f32 } from './f32.ts';
import { percentileMseLogSqrt2, percentileMseUniform, PERCENTILES, type LogInit, type UniformInit } from './percentile-mse.ts';

function checkSize(what: string, got: number, want: number): void {
  if (got !== want) throw new ShapeError(`${what}: expected ${want} values, got ${got}.`);
}

/**
 * One init per output channel of a weight in the canonical layout [in, out] (Linear, and the patch-embed
 * conv flattened to [c·kh·kw, out]): output channel o is column o.
 */
export function percentileMsePerColumn(weight: Float32Array, rows: number, cols: number, bits: number,
                                       ps: readonly number[] = PERCENTILES): UniformInit[] {
  checkSize('per-channel weight', weight.length, rows * cols);
  const column = new Float32Array(rows);
  return Array.from({ length: cols }, (_, o) => {
    for (let r = 0; r < rows; r++) column[r] = weight[r * cols + o];
    return percentileMseUniform(column, bits, ps);
  });
}

export interface PpoqInit { tokens: UniformInit[]; outlierCount: number; outlierCountPerToken: number[] }

/**
 * PPOQ (§3): per token position n, percentile-MSE over X0[b, n, c] for all b and c, where X0 is X with
 * |X| > τ (strict) set to 0. The zeroed outliers stay in the set, as in the reference.
 */
export function percentileMsePerToken(x: Float32Array, shape: readonly [number, number, number], tau: number, bits: number,
                                      ps: readonly number[] = PERCENTILES): PpoqInit {
  const [batch, tokens, channels] = shape;
  checkSize('PPOQ input', x.length, batch * tokens * channels);
  const t = f32(tau), values = new Float32Array(batch * channels), perToken: number[] = [];
  const inits = Array.from({ length: tokens }, (_, n) => {
    let outliers = 0;
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < channels; c++) {
        const v = x[(b * tokens + n) * channels + c], out = Math.abs(v) > t;
        if (out) outliers++;
        values[b * channels + c] = out ? 0 : v;
      }
    }
    perToken.push(outliers);
    return percentileMseUniform(values, bits, ps);
  });
  return { tokens: inits, outlierCount: perToken.reduce((a, b) => a + b, 0), outlierCountPerToken: perToken };
}

export const SLQ_EPS = f32(1e-6);

/** The SLQ shift of a tensor: S = (X − m) + 1e-6 in f32, m = min X (the dynamic shift of the released code). */
export function slqShift(x: ArrayLike<number>): { shiftMin: number; shifted: Float32Array } {
  let m = Infinity;
  for (let i = 0; i < x.length; i++) m = Math.min(m, x[i]);
  const shifted = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) shifted[i] = f32(x[i] - m) + SLQ_EPS;  // the typed array rounds the sum
  return { shiftMin: m, shifted };
}

/** SLQ (§4): log√2 percentile-MSE on the shifted values S (error measured on S, which equals X's up to rounding). */
export function percentileMseSlq(x: ArrayLike<number>, bits: number, ps: readonly number[] = PERCENTILES): LogInit & { shiftMin: number } {
  const { shiftMin, shifted } = slqShift(x);
  return { ...percentileMseLogSqrt2(shifted, bits, ps), shiftMin };
}
