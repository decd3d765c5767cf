/**
 * Activation-statistics test cases as data, shared by the CPU-twin and GPU suites (tests/stats-*.test.ts).
 * Each case is two batches of [rows, cols] f32 (the statistics accumulate over both); sizes are not
 * workgroup multiples and stay small for lavapipe. Generators are deterministic so failures reproduce.
 */
import { randomArray } from './helpers/all-close.ts';

export type DataKind = 'uniform' | 'special' | 'special-finite' | 'equal' | 'zeros' | 'edges' | 'heavy';
export interface HistSpec { bins: number; lo: number; hi: number }
export interface StatsCase { name: string; rows: number; cols: number; tokens: number; kind: DataKind; hist: HistSpec }

const f = Math.fround;
const nextUp = (x: number) => { const a = new Float32Array([x]), u = new Uint32Array(a.buffer); u[0] += x >= 0 ? 1 : -1; return a[0]; };
const nextDown = (x: number) => -nextUp(-x);

/** Ties, signs, ±0, threshold values (5, 10), huge, tiny and subnormal magnitudes, bin edges of [-2, 2]/16. */
const SPECIAL = [0, -0, 1, -1, 5, -5, 10, -10, nextUp(5), nextDown(10), 1e30, -1e30, 1e-30, -1e-30, 3e38, -3e38,
  1.4e-45, -1.4e-45, 1e-40, -1e-40, 0.25, -0.25, 2, -2, nextUp(2), nextDown(-2), 1.75, 0.5];
const NON_FINITE = [Infinity, -Infinity, NaN, NaN];

/** Values at every bin edge of `h` (as f32), one f32 step either side, lo, hi, and just outside. */
function edgeValues(h: HistSpec): number[] {
  const out: number[] = [];
  for (let k = 0; k <= h.bins; k++) {
    const e = f(f(h.lo) + f(k * f(f(h.hi) - f(h.lo)) / h.bins));
    out.push(e, nextUp(e), nextDown(e));
  }
  return [...out, f(h.lo), f(h.hi), nextDown(f(h.lo)), nextUp(f(h.hi))];
}

export function makeBatch(c: StatsCase, batch: number): Float32Array {
  const n = c.rows * c.cols, seed = 1000 * batch + c.rows + c.cols;
  const u = randomArray(n, seed, -1, 1);
  const x = new Float32Array(n);
  const pick = (list: number[], i: number) => list[(i * 7 + batch) % list.length];
  const edges = c.kind === 'edges' ? edgeValues(c.hist) : [];
  for (let i = 0; i < n; i++) {
    const col = i % c.cols;
    switch (c.kind) {
      case 'uniform': x[i] = u[i] * 3; break;
      case 'equal': x[i] = 0.3; break;
      case 'zeros': x[i] = (i * 5 + batch) % 3 ? 0 : -0; break;
      // Ties: half the values are quarter steps (many repeats), a quarter special values.
      case 'special': case 'special-finite': {
        const list = c.kind === 'special' ? [...SPECIAL, ...NON_FINITE] : SPECIAL;
        x[i] = i % 4 === 0 ? pick(list, i >> 2) : i % 2 ? Math.round(u[i] * 12) / 4 : u[i] * 20;
        break;
      }
      case 'edges': x[i] = i % 2 ? pick(edges, i >> 1) : u[i] * (c.hist.hi - c.hist.lo); break;
      // Laplace-like tails; channels 3, 50 and 77 scaled ×30 (outlier channels as in real ViTs).
      case 'heavy': {
        const v = -Math.sign(u[i]) * Math.log(1 - Math.abs(u[i]) + 1e-9);
        x[i] = col === 3 || col === 50 || col === 77 ? v * 30 : v;
        break;
      }
    }
  }
  return x;
}

export const batchesOf = (c: StatsCase): Float32Array[] => [makeBatch(c, 0), makeBatch(c, 1)];

const H16: HistSpec = { bins: 16, lo: -2, hi: 2 };
export const STATS_CASES: StatsCase[] = [
  { name: 'uniform 1×96', rows: 1, cols: 96, tokens: 1, kind: 'uniform', hist: { bins: 10, lo: -1, hi: 1 } },
  { name: 'special 3×385', rows: 3, cols: 385, tokens: 3, kind: 'special', hist: H16 },
  { name: 'special-finite 50×192', rows: 50, cols: 192, tokens: 25, kind: 'special-finite', hist: H16 },
  { name: 'edges /7 50×385', rows: 50, cols: 385, tokens: 10, kind: 'edges', hist: { bins: 7, lo: -1, hi: 3 } },
  { name: 'edges /100 50×385', rows: 50, cols: 385, tokens: 5, kind: 'edges', hist: { bins: 100, lo: -3.3, hi: 5.1 } },
  { name: 'edges /3 tiny 3×96', rows: 3, cols: 96, tokens: 3, kind: 'edges', hist: { bins: 3, lo: -1e-30, hi: 1e-30 } },
  { name: 'edges /2045 3×385', rows: 3, cols: 385, tokens: 1, kind: 'edges', hist: { bins: 2045, lo: -1, hi: 2 } },
  { name: 'edges /2046 (global bins) 3×192', rows: 3, cols: 192, tokens: 3, kind: 'edges', hist: { bins: 2046, lo: -1, hi: 2 } },
  { name: 'equal 50×96', rows: 50, cols: 96, tokens: 50, kind: 'equal', hist: { bins: 5, lo: 0.1, hi: 0.3 } },
  { name: 'zeros 3×96', rows: 3, cols: 96, tokens: 1, kind: 'zeros', hist: { bins: 4, lo: 0, hi: 1 } },
  { name: 'heavy 197×96', rows: 197, cols: 96, tokens: 197, kind: 'heavy', hist: { bins: 65_536, lo: -40, hi: 40 } },
  { name: 'heavy 2·197×96 tokens 197', rows: 394, cols: 96, tokens: 197, kind: 'heavy', hist: { bins: 100, lo: -1e30, hi: 1e30 } },
  { name: 'special tiny range 3×96', rows: 3, cols: 96, tokens: 3, kind: 'special', hist: { bins: 3, lo: -1e-30, hi: 1e-30 } },
];

export const THRESHOLDS = [0, 0.25, 1, 5, 10, 30, 1e30, 1e-40];
export const QUANTILE_PS = [0, 0.001, 0.25, 0.5, 0.75, 0.999, 0.99999, 1];

/** Exact equality of f32 bit patterns (so -0 vs +0 and NaN payloads count), with the first difference. */
export function sameBits(actual: Float32Array, expected: Float32Array): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) return `[${i}]: actual ${actual[i]}, expected ${expected[i]}`;
  return null;
}
