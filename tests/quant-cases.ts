/**
 * Fake-quantizer test cases as data, shared by the CPU-twin suite (quant-reference) and the GPU suite
 * (quant-gpu): every case of the reference vectors (../shared/spec/vectors, skipped when absent) and
 * synthetic cases on odd shapes for every granularity and bits 2..8, dense in boundary values.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LogBase } from '../src/engine/reference/quant/log-quant.ts';
import { logQuantRef, logThresholds, slqQuantRef } from '../src/engine/reference/quant/log-quant.ts';
import { bitsF32, f32, f32Bits } from '../src/engine/reference/quant/rounding.ts';
import { ppoqQuantRef, uniformQuantRef, type Granularity } from '../src/engine/reference/quant/uniform-quant.ts';
import { randomArray } from './helpers/all-close.ts';

interface Base { name: string; x: Float32Array; rows: number; cols: number; bits: number;
  /** Reference results, when the case comes from the vectors. */
  expect?: { y: Float32Array; codes?: Uint32Array; outliers?: number; perToken?: Uint32Array } }
export type QuantCase = Base & (
  | { kind: 'uniform'; granularity: Granularity; delta: Float32Array; zero: Float32Array; tokens: number }
  | { kind: 'ppoq'; tau: number; delta: Float32Array; zero: Float32Array; tokens: number }
  | { kind: 'log'; delta: number; base: LogBase }
  | { kind: 'slq'; delta: number; base: LogBase; shift: number; eps: number });

const DIR = new URL('../../shared/spec/vectors/', import.meta.url);
export const VECTORS_PRESENT = existsSync(DIR);
if (!VECTORS_PRESENT) console.warn(`[quant] ${DIR.pathname} is absent (no ../shared checkout); the reference-vector cases are skipped.`);

const F = (a: number[]) => Float32Array.from(a);
const load = (f: string) => JSON.parse(readFileSync(new URL(`${f}.json`, DIR), 'utf8')).cases as any[];

/** [rows, cols] row-major → [cols, rows]. */
function transpose<T extends Float32Array | Uint32Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as any)(a.length) as T;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function vectorCases(): QuantCase[] {
  if (!VECTORS_PRESENT) return [];
  const out: QuantCase[] = [];
  const exp = (c: any, y = c.output.data, codes = c.codes) => ({ y: F(y), codes: codes ? Uint32Array.from(codes) : undefined });
  for (const c of [...load('uniform_percentile_mse'), ...load('grid_search')]) {
    const s: number[] = c.input.shape, p = c.params, bits = c.settings.n_bits;
    if (c.settings.granularity === 'per_output_channel') {
      // Reference weights are (out, in…) rows; ours are [in, out] (x·W): per output channel = per column.
      const rows = s[0], cols = c.input.data.length / rows;
      out.push({ kind: 'uniform', name: c.name, rows: cols, cols: rows, bits, granularity: 'channel', tokens: 1,
        x: transpose(F(c.input.data), rows, cols), delta: F(p.delta), zero: F(p.zero_point),
        expect: { y: transpose(F(c.output.data), rows, cols), codes: transpose(Uint32Array.from(c.codes), rows, cols) } });
    } else {
      out.push({ kind: 'uniform', name: c.name, rows: c.input.data.length / s.at(-1)!, cols: s.at(-1)!, bits, granularity: 'tensor',
        tokens: 1, x: F(c.input.data), delta: F([p.delta]), zero: F([p.zero_point]), expect: exp(c) });
    }
  }
  for (const c of load('ppoq')) {
    const [B, N, C] = c.input.shape, p = c.params;
    const base = { kind: 'ppoq' as const, bits: c.settings.n_bits, tau: c.settings.threshold, delta: F(p.delta), zero: F(p.zero_point), tokens: N, cols: C };
    out.push({ ...base, name: c.name, rows: B * N, x: F(c.input.data),
      expect: { ...exp(c), outliers: c.outlier_count, perToken: Uint32Array.from(c.outlier_count_per_token) } });
    out.push({ ...base, name: `${c.name} eval`, rows: c.eval_input.shape[0] * N, x: F(c.eval_input.data),
      expect: { y: F(c.eval_output.data), outliers: c.eval_outlier_count } });
  }
  for (const c of load('log_sqrt2')) {
    const s: number[] = c.input.shape;
    out.push({ kind: 'log', name: c.name, rows: c.input.data.length / s.at(-1)!, cols: s.at(-1)!, bits: c.settings.n_bits,
      delta: c.params.delta, base: 'sqrt2', x: F(c.input.data), expect: exp(c) });
  }
  for (const c of load('slq')) {
    const s: number[] = c.input.shape, p = c.params;
    const base = { kind: 'slq' as const, bits: c.settings.n_bits, delta: p.delta, base: 'sqrt2' as const, eps: p.eps, cols: s.at(-1)! };
    out.push({ ...base, name: c.name, rows: c.input.data.length / base.cols, x: F(c.input.data), shift: p.shift_min, expect: exp(c) });
    out.push({ ...base, name: `${c.name} eval`, rows: c.eval_input.data.length / base.cols, x: F(c.eval_input.data),
      shift: c.eval_shift_min, expect: exp(c, c.eval_output.data, c.eval_codes) });
  }
  return out;
}

export const nextUp = (x: number): number => (x === 0 ? bitsF32(1) : bitsF32(f32Bits(x) + (x > 0 ? 1 : -1)));
export const nextDown = (x: number): number => -nextUp(-x);
const SHAPES: [number, number][] = [[1, 96], [3, 385], [197, 96], [1, 385], [3, 96], [197, 385]];

/** Values around every decision boundary of (Δ, z): exact and near .5 steps, clamp edges, ±0, far outside. */
function uniformValue(i: number, delta: number, zero: number, L: number, u: number): number {
  const k = Math.floor(u * (L + 4)) - 2 - zero;           // steps around the code range, clamping included
  const tie = f32((k + 0.5) * delta);
  switch (i % 9) {
    case 0: return tie;
    case 1: return nextUp(tie);
    case 2: return nextDown(tie);
    case 3: return f32(k * delta);
    case 4: return [0, -0, 1e30, -1e30, f32((-zero - 0.5) * delta), f32((L - 1 - zero + 0.5) * delta), 1e-40, -3e38][Math.floor(u * 8)];
    default: return f32((u * (L + 2) - 1 - zero) * delta);
  }
}

function syntheticCases(): QuantCase[] {
  const out: QuantCase[] = [];
  const grans: Granularity[] = ['tensor', 'channel', 'token'];
  let s = 0;
  for (let bits = 2; bits <= 8; bits++) {
    const L = 2 ** bits;
    for (const g of [...grans, 'ppoq' as const]) {
      const [rows, cols] = SHAPES[s++ % SHAPES.length], tokens = rows === 197 ? 197 : 3;
      const n = g === 'tensor' ? 1 : g === 'channel' ? cols : tokens;
      const r = randomArray(3 * n + rows * cols, 7 * bits + s, 0, 1);
      // Dyadic Δ (exact .5 ties occur) alternate with arbitrary ones; z sometimes outside [0, L−1].
      const delta = Float32Array.from({ length: n }, (_, j) => (j % 2 ? 2 ** -(j % 7) * 0.75 : 0.01 + r[j] * 0.3));
      const zero = Float32Array.from({ length: n }, (_, j) => (j % 5 === 4 ? [-1, L][j % 2] : Math.floor(r[n + j] * L)));
      const at = (i: number) => (g === 'tensor' ? 0 : g === 'channel' ? i % cols : Math.floor(i / cols) % tokens);
      const x = Float32Array.from({ length: rows * cols }, (_, i) => uniformValue(i, delta[at(i)], zero[at(i)], L, r[3 * n + i]));
      const name = `synthetic ${g} ${bits}bit [${rows}, ${cols}]`;
      if (g === 'ppoq') {
        const tau = 2 * L * 0.05;
        x.forEach((_, i) => { if (i % 13 === 0) x[i] = [tau, -tau, nextUp(tau), -nextUp(tau), nextDown(tau), 1e6][i % 6]; });
        out.push({ kind: 'ppoq', name, rows, cols, bits, tau, delta, zero, tokens, x });
      } else out.push({ kind: 'uniform', name, rows, cols, bits, granularity: g, delta, zero, tokens, x });
    }
    for (const base of ['sqrt2', '2'] as const) {
      const [rows, cols] = SHAPES[s++ % SHAPES.length];
      const delta = base === '2' ? 1 : 0.7500438690185547, thr = logThresholds(bits, base);
      const r = randomArray(rows * cols, 11 * bits + s, 0, 1);
      // Quotients one or two f32 steps around every threshold (exact with Δ = 1), zeros, subnormals, x > Δ.
      const x = Float32Array.from(r, (u, i) => {
        const t = bitsF32(thr[Math.floor(u * L)] + (i % 5) - 2);
        if (i % 7 === 3) return [0, -0, -0.25, 1e-40, 1.4e-45, 3 * delta, 1e-30][Math.floor(u * 7)];
        return i % 3 === 2 ? f32(u ** 3 * delta * 1.1) : f32(t * delta);
      });
      out.push({ kind: 'log', name: `synthetic log${base} ${bits}bit [${rows}, ${cols}]`, rows, cols, bits, delta, base, x });
      if (base === 'sqrt2') {
        // GELU-like values for SLQ, with the tensor's own min as the shift.
        const gx = Float32Array.from(r, (u) => { const v = (u - 0.3) * 4; return f32(v / (1 + Math.exp(-1.702 * v))); });
        out.push({ kind: 'slq', name: `synthetic slq ${bits}bit [${rows}, ${cols}]`, rows, cols, bits, delta: f32(0.5 + bits * 0.3),
          base, shift: gx.reduce((a, b) => Math.min(a, b), Infinity), eps: 1e-6, x: gx });
      }
    }
  }
  return out;
}

export const QUANT_CASES: QuantCase[] = [...vectorCases(), ...syntheticCases()];

/** The CPU twin's result for a case (perToken only for PPOQ). */
export function twinOf(c: QuantCase): { y: Float32Array; codes: Uint32Array; perToken?: Uint32Array } {
  switch (c.kind) {
    case 'uniform': return uniformQuantRef(c.x, c);
    case 'ppoq': { const r = ppoqQuantRef(c.x, c); return { ...r, perToken: r.outliersPerToken }; }
    case 'log': return logQuantRef(c.x, c);
    case 'slq': return slqQuantRef(c.x, c);
  }
}
