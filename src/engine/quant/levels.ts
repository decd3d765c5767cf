/**
 * The values a quantizer can output, for drawing over a histogram: the uniform grid (q − z)·Δ, one grid
 * per token position for PPOQ, the log levels Δ·2^(−k/2) (or 2^(−k)) and the exact zero, shifted back
 * for SLQ. Plain numbers in f32, as the fake-quant kernels produce them.
 */
import { logLevel } from '../reference/quant/log-quant.ts';
import type { ActQuant } from './params.ts';

const f32 = Math.fround;

export function uniformLevels(delta: number, zero: number, bits: number): number[] {
  const out: number[] = [];
  for (let q = 0; q < 2 ** bits; q++) out.push(f32((q - zero) * delta));
  return out;
}

export function logLevels(delta: number, bits: number, base: 'sqrt2' | '2'): number[] {
  const out: number[] = [];
  for (let k = 2 ** bits; k >= 0; k--) out.push(logLevel(k, bits, f32(delta), base));  // code L is the exact zero
  return out;
}

/**
 * Output levels of `q`. PPOQ has one grid per token: `token` picks one; without it the grids of all
 * tokens are returned (one array each). Values past PPOQ's ±τ pass through unquantized.
 */
export function quantizerLevels(q: ActQuant, bits: number, token?: number): number[][] {
  switch (q.kind) {
    case 'uniform': return [uniformLevels(q.delta, q.zero, bits)];
    case 'ppoq': {
      const tokens = token === undefined ? q.delta.map((_, n) => n) : [token];
      return tokens.map((n) => uniformLevels(q.delta[n], q.zero[n], bits));
    }
    case 'log': return [logLevels(q.delta, bits, q.base)];
    case 'slq': return [logLevels(q.delta, bits, q.base).map((v) => f32(f32(v + q.shift) - f32(1e-6)))];
  }
}
