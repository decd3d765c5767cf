// Fake-quantizer backward (ADFQ §5.5, STYLE habit 7): the twins' gradient rules against finite differences
// where a derivative exists, and against the analytic formulas, then the GPU kernels against the twins.
// - Default mode ('round'): with the codes held fixed the forward is linear in Δ and constant in x, so the
//   rule IS the derivative almost everywhere: central differences of a float64 forward (codes from the
//   float32 quotient, asserted unchanged under the step, h = 1e-7) within 1e-5 relative. Same for the
//   released SLQ's gradient through its dynamic shift m = min(x).
// - STE / LSQ: derivatives of a surrogate that replaces rounding by the identity with the rounding residual
//   frozen (uniform: clamp kept live, data away from rounding ties and from the kinks at codes 0 and L − 1;
//   log: region frozen), h = 1e-4·max(|x|, 1), within 1e-5; plus the LSQ formula (q − z) − x/Δ evaluated
//   independently in float64 (within 1e-6 of Σ|terms|).
// - GPU vs twin: dx exactly where it is dy or 0 (the shift's share within 1e-6·Σ|dy|); ∂L/∂Δ within
//   1e-6·Σ|dy·∂x̂/∂Δ| (float32 products and tree sums against a float64 sum).
import { afterAll, describe, expect, test } from 'vitest';
import { logQuantBackward, slqQuantBackward } from '../src/engine/kernels/train/log-quant-backward.ts';
import { uniformQuantBackward } from '../src/engine/kernels/train/uniform-quant-backward.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError, UsageError } from '../src/engine/errors.ts';
import { logCode, logIndex, logLevel, logThresholds, type LogBase } from '../src/engine/reference/quant/log-quant.ts';
import { bitsF32, divF32, f32, roundHalfEven } from '../src/engine/reference/quant/rounding.ts';
import {
  gradRule, logQuantBackwardRef, logTopThreshold, uniformQuantBackwardRef, type GradRule, type QuantGrads, type UniformBackwardParams,
} from '../src/engine/reference/train/quant-backward.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { dot, expectGradClose, numericGrad, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));
const fd = (f: (v: Float64Array) => number, x: ArrayLike<number>, analytic: ArrayLike<number>, what: string, relStep?: number) =>
  worst.push(`${what}: ${expectGradClose(numericGrad(f, x, relStep), analytic, what).worst.toExponential(2)} (finite differences)`);

const NONE_ROUND: GradRule = { x: 'none', delta: 'round' };
const STE_ROUND: GradRule = { x: 'ste', delta: 'round' };
const STE_LSQ: GradRule = { x: 'ste', delta: 'lsq' };
const RULES = [['default', NONE_ROUND], ['q/k/v default', STE_ROUND], ['ste-lsq', STE_LSQ]] as const;

// ---------- uniform / PPOQ data and float64 forwards ----------

interface UCase { name: string; rows: number; cols: number; p: UniformBackwardParams }
/**
 * Values with a chosen unclamped code c = k (never 0 or L − 1, the surrogate's kinks) and rounding residual
 * in (−0.45, 0.45), k from −3 to L + 2 so that both clamps occur; PPOQ cases get outliers well past τ.
 */
function awayFromBoundaries(c: UCase, seed: number): Float32Array {
  const L = 2 ** c.p.bits, n = c.rows * c.cols, r = randomArray(3 * n, seed, 0, 1);
  return Float32Array.from({ length: n }, (_, i) => {
    const j = c.p.granularity === 'token' ? Math.floor(i / c.cols) % c.p.tokens! : 0;
    let k = Math.floor(r[3 * i] * (L + 6)) - 3;
    if (k === 0 || k === L - 1) k += k === 0 ? 1 : -1;
    const v = (k - c.p.zero[j] + 0.9 * (r[3 * i + 1] - 0.5)) * c.p.delta[j];
    if (c.p.tau === undefined) return v;
    if (r[3 * i + 2] < 0.15) return Math.sign(v || 1) * (c.p.tau + 0.01 + r[3 * i + 2]);  // an outlier
    return Math.abs(Math.abs(v) - c.p.tau) < 1e-3 ? 0.2 * c.p.delta[j] : v;
  });
}

const entryOf = (p: UniformBackwardParams, i: number) => (p.granularity === 'token' ? Math.floor(i / p.cols) % p.tokens! : 0);

/** The float64 forward with codes from the float32 quotient; throws when a code differs from `codes`. */
function uniformForward64(x: ArrayLike<number>, delta: ArrayLike<number>, p: UniformBackwardParams, codes?: number[]) {
  const L = 2 ** p.bits, y = new Float64Array(x.length), out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const j = entryOf(p, i);
    if (p.tau !== undefined && Math.abs(x[i]) > p.tau) { y[i] = x[i]; out.push(-1); continue; }
    const q = Math.min(Math.max(f32(roundHalfEven(divF32(x[i], delta[j])) + p.zero[j]), 0), L - 1);
    if (codes && codes[i] !== q) throw new Error(`code of element ${i} changed under the finite-difference step`);
    out.push(q);
    y[i] = (q - p.zero[j]) * delta[j];
  }
  return { y, codes: out };
}

/** LSQ's surrogate: round(u) → u + r with r = round(u₀) − u₀ frozen at the base point; outliers pass x. */
function uniformSurrogate(x: ArrayLike<number>, delta: ArrayLike<number>, p: UniformBackwardParams, r: Float64Array): Float64Array {
  const L = 2 ** p.bits;
  return Float64Array.from({ length: x.length }, (_, i) => {
    const j = entryOf(p, i);
    if (p.tau !== undefined && Math.abs(x[i]) > p.tau) return x[i];
    return delta[j] * (Math.min(Math.max(x[i] / delta[j] + r[i] + p.zero[j], 0), L - 1) - p.zero[j]);
  });
}

const TENSOR4: UCase = { name: 'per tensor, 4 bits', rows: 9, cols: 11, p: { bits: 4, granularity: 'tensor', delta: Float32Array.of(0.1), zero: Float32Array.of(7), cols: 11 } };
const PPOQ4: UCase = {
  name: 'PPOQ, 3 images × 5 tokens × 7, 4 bits', rows: 15, cols: 7,
  p: { bits: 4, granularity: 'token', delta: Float32Array.from([0.11, 0.07, 0.13, 0.09, 0.05]), zero: Float32Array.from([8, 6, 7, 9, 5]), cols: 7, tokens: 5, tau: 0.9 },
};

describe('uniform / PPOQ backward twins', () => {
  test('the rule table of §5.5', () => {
    for (const role of ['ppoq', 'uniform-input', 'slq', 'softmax'] as const) expect(gradRule('default', role)).toEqual(NONE_ROUND);
    expect(gradRule('default', 'qkv')).toEqual(STE_ROUND);
    for (const role of ['ppoq', 'uniform-input', 'slq', 'qkv', 'softmax'] as const) expect(gradRule('ste-lsq', role)).toEqual(STE_LSQ);
  });

  for (const c of [TENSOR4, PPOQ4]) {
    test(`default mode, ${c.name}: ∂L/∂Δ = Σ dy·(q − z) is the derivative with codes fixed; dx = 0`, () => {
      const x = awayFromBoundaries(c, 1), dy = randomArray(x.length, 2);
      const base = uniformForward64(x, c.p.delta, c.p);
      const r = uniformQuantBackwardRef(x, dy, c.p, NONE_ROUND);
      fd((d) => dot(uniformForward64(x, d, c.p, base.codes).y, dy), c.p.delta, r.ddelta, `uniform default dΔ (${c.name})`, 1e-7);
      // In x the forward is constant between codes, except PPOQ's outliers (x̂ = x), which the detached
      // input of the released code does not differentiate either.
      const inliers = Float64Array.from(x, (v) => (c.p.tau !== undefined && Math.abs(v) > c.p.tau ? 0 : 1));
      const numeric = numericGrad((v) => dot(uniformForward64(v, c.p.delta, c.p, base.codes).y, dy), x, 1e-7).map((g, i) => g * inliers[i]);
      expect(numeric.every((g) => g === 0)).toBe(true);
      expect(r.dx.every((g) => g === 0)).toBe(true);
    });

    test(`ste-lsq, ${c.name}: dx and ∂L/∂Δ are the derivatives of the STE surrogate`, () => {
      const x = awayFromBoundaries(c, 3), dy = randomArray(x.length, 4);
      const frozen = Float64Array.from(x, (v, i) => { const u = divF32(v, c.p.delta[entryOf(c.p, i)]); return roundHalfEven(u) - u; });
      const r = uniformQuantBackwardRef(x, dy, c.p, STE_LSQ);
      fd((v) => dot(uniformSurrogate(v, c.p.delta, c.p, frozen), dy), x, r.dx, `uniform STE dx (${c.name})`);
      fd((d) => dot(uniformSurrogate(x, d, c.p, frozen), dy), c.p.delta, r.ddelta, `uniform LSQ dΔ (${c.name})`);
      // q/k/v in the default mode: the same STE for x, Δ by the codes-fixed rule.
      expect(Array.from(uniformQuantBackwardRef(x, dy, c.p, STE_ROUND).dx)).toEqual(Array.from(r.dx));
    });
  }

  test('LSQ formula, per tensor on random values: (q − z) − x/Δ inside, bound − z clamped, in float64', () => {
    const { p } = TENSOR4, L = 16, x = randomArray(2000, 5, -1.3, 1.3), dy = randomArray(x.length, 6);
    let sum = 0, abs = 0;
    const dx = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const u = x[i] / p.delta[0], c = Math.round(u) + p.zero[0];  // ties have probability 0 here
      const inside = c >= 0 && c <= L - 1;
      const t = dy[i] * (inside ? c - p.zero[0] - u : Math.min(Math.max(c, 0), L - 1) - p.zero[0]);
      sum += t; abs += Math.abs(t);
      dx[i] = inside ? dy[i] : 0;
    }
    const r = uniformQuantBackwardRef(x, dy, p, STE_LSQ);
    expect(Math.abs(r.ddelta[0] - sum)).toBeLessThanOrEqual(1e-6 * abs);
    expect(Array.from(r.dx)).toEqual(Array.from(dx));
    worst.push(`uniform LSQ dΔ vs float64 formula: ${(Math.abs(r.ddelta[0] - sum) / abs).toExponential(2)} of Σ|terms|`);
  });
});

// ---------- log / SLQ ----------

interface LCase { name: string; n: number; bits: number; delta: number; base: LogBase; shift?: number | 'min'; lo: number; hi: number }
const SLQ_MIN: LCase = { name: 'SLQ, dynamic min, 4 bits', n: 160, bits: 4, delta: 2, base: 'sqrt2', shift: 'min', lo: -0.17, hi: 3.2 };
const LOG2: LCase = { name: 'log2, 3 bits', n: 120, bits: 3, delta: 0.8, base: '2', lo: -0.05, hi: 1.5 };
const EPS = f32(1e-6);

function shiftOf(c: LCase, x: ArrayLike<number>): number | undefined {
  if (c.shift === undefined) return undefined;
  return c.shift === 'min' ? Math.min(...Array.from(x)) : f32(c.shift);
}
/** Code, region, f32 ratio u for every element, from the float32 forward steps (shift m as given). */
function logState(x: ArrayLike<number>, delta: number, c: LCase, m: number | undefined) {
  return Array.from(x, (v) => {
    const s = m === undefined ? v : f32(f32(v - m) + EPS), u = divF32(s, delta), k = logCode(u, c.bits, c.base);
    return { k, u, region: k === 2 ** c.bits ? 'zero' : logIndex(u, c.base) < 0 ? 'top' : 'inside' };
  });
}
/** Float64 forward with codes held: level(k)·Δ (+ m − eps); throws when a code changes. */
function logForward64(x: ArrayLike<number>, delta: number, c: LCase, codes?: number[]): Float64Array {
  const m = shiftOf(c, x), st = logState(x, delta, c, m);
  return Float64Array.from(st, (e, i) => {
    if (codes && codes[i] !== e.k) throw new Error(`code of element ${i} changed under the finite-difference step`);
    return logLevel(e.k, c.bits, 1, c.base) * delta + (m === undefined ? 0 : m - EPS);
  });
}
/** The STE surrogate with regions and residuals ρ = level − u frozen: inside Δ·(S/Δ + ρ), top Δ, zero 0. */
function logSurrogate(x: ArrayLike<number>, delta: number, c: LCase, frozen: { region: string; rho: number }[]): Float64Array {
  const m = shiftOf(c, x);
  return Float64Array.from(frozen, (e, i) => {
    const s = m === undefined ? x[i] : x[i] - m + EPS;
    const f = e.region === 'inside' ? s + delta * e.rho : e.region === 'top' ? delta : 0;
    return f + (m === undefined ? 0 : m - EPS);
  });
}
function logData(c: LCase, seed: number): Float32Array {
  const x = randomArray(c.n, seed, c.lo, c.hi);
  if (c.shift === 'min') x[7] = c.lo - 0.01;  // a unique minimum
  return x;
}
const logParams = (c: LCase, x: ArrayLike<number>, delta = c.delta) =>
  ({ bits: c.bits, delta, base: c.base, shift: shiftOf(c, x), shiftGrad: c.shift === 'min' });

describe('log / SLQ backward twins', () => {
  for (const c of [SLQ_MIN, LOG2]) {
    test(`default mode, ${c.name}: ∂L/∂Δ = Σ dy·2^(−k/2) and the shift's gradient are derivatives with codes fixed`, () => {
      const x = logData(c, 11), dy = randomArray(x.length, 12);
      const codes = logState(x, c.delta, c, shiftOf(c, x)).map((e) => e.k);
      const r = logQuantBackwardRef(x, dy, logParams(c, x), NONE_ROUND);
      fd((d) => dot(logForward64(x, d[0], c, codes), dy), [c.delta], r.ddelta, `log default dΔ (${c.name})`, 1e-7);
      // dx: 0 everywhere, except (dynamic SLQ) the minimal element, which carries Σ dy through m.
      fd((v) => dot(logForward64(v, c.delta, c, codes), dy), x, r.dx, `log default dx (${c.name})`, 1e-7);
      expect(r.dx.filter((g) => g !== 0).length).toBe(c.shift === 'min' ? 1 : 0);
    });

    test(`ste-lsq, ${c.name}: dx and ∂L/∂Δ are the derivatives of the STE surrogate`, () => {
      const x = logData(c, 13), dy = randomArray(x.length, 14);
      const frozen = logState(x, c.delta, c, shiftOf(c, x)).map((e) => ({ region: e.region, rho: logLevel(e.k, c.bits, 1, c.base) - e.u }));
      expect(new Set(frozen.map((e) => e.region)).size).toBe(3);  // every region occurs
      const r = logQuantBackwardRef(x, dy, logParams(c, x), STE_LSQ);
      fd((v) => dot(logSurrogate(v, c.delta, c, frozen), dy), x, r.dx, `log STE dx (${c.name})`);
      fd((d) => dot(logSurrogate(x, d[0], c, frozen), dy), [c.delta], r.ddelta, `log LSQ dΔ (${c.name})`);
    });
  }
});

// ---------- GPU against the twins ----------

function gpuGradsClose(got: { dx: Float32Array | null; ddelta: Float32Array }, r: QuantGrads, dy: Float32Array, what: string, exactDx: boolean) {
  if (got.dx) {
    const sumAbs = dy.reduce((a, v) => a + Math.abs(v), 0);
    allClose(got.dx, r.dx, exactDx ? { atol: 0, rtol: 0 } : { atol: 1e-6 * sumAbs, rtol: 0 }, `${what} dx`);
  }
  let rel = 0;
  for (let j = 0; j < r.ddelta.length; j++) {
    const bound = 1e-6 * r.ddeltaAbs[j] + 1e-30, d = Math.abs(got.ddelta[j] - r.ddelta[j]);
    if (!(d <= bound)) throw new Error(`${what} dΔ[${j}]: GPU ${got.ddelta[j]}, twin ${r.ddelta[j]}, |diff| ${d} > ${bound}`);
    rel = Math.max(rel, d / (r.ddeltaAbs[j] || 1));
  }
  worst.push(`${what}: dΔ within ${rel.toExponential(2)} of Σ|terms|${got.dx && !exactDx ? `, dx ${worstDiff(got.dx, r.dx).abs.toExponential(2)}` : ''} (GPU vs twin)`);
}

interface GpuUCase extends UCase { lo: number; hi: number }
const GPU_UNIFORM: GpuUCase[] = [
  // Δ = 1/8: half of the values are multiples of Δ/2, so exact rounding ties and range ends occur.
  { name: 'per tensor, 4 bits, 37 × 71', rows: 37, cols: 71, lo: -1.3, hi: 1.3, p: { bits: 4, granularity: 'tensor', delta: Float32Array.of(0.125), zero: Float32Array.of(7), cols: 71 } },
  { name: 'per tensor, 8 bits, 5 × 3', rows: 5, cols: 3, lo: -2, hi: 1, p: { bits: 8, granularity: 'tensor', delta: Float32Array.of(0.01), zero: Float32Array.of(128), cols: 3 } },
  { ...PPOQ4, lo: -1.5, hi: 1.5 },
  {
    name: 'PPOQ, 2 images × 197 tokens × 13, 6 bits', rows: 394, cols: 13, lo: -2, hi: 2,
    p: { bits: 6, granularity: 'token', delta: randomArray(197, 20, 0.02, 0.06), zero: Float32Array.from(randomArray(197, 21, 20, 44), Math.round), cols: 13, tokens: 197, tau: 1.5 },
  },
];

describe('uniform_quant_backward on the GPU against the twin', () => {
  for (const c of GPU_UNIFORM) {
    test(c.name, async () => {
      const ctx = await getGpu();
      const x = randomArray(c.rows * c.cols, 30, c.lo, c.hi), dy = randomArray(x.length, 31);
      for (let i = 0; i < x.length; i += 2) x[i] = Math.round(x[i] / (c.p.delta[0] / 2)) * (c.p.delta[0] / 2);
      const shape = [c.rows, c.cols], n = c.p.delta.length;
      for (const [label, rule] of RULES) {
        const got = await record(ctx, (enc) => uniformQuantBackward(ctx, enc, uploadTensor(ctx, x, shape), uploadTensor(ctx, dy, shape), {
          bits: c.p.bits, granularity: c.p.granularity, tokens: c.p.tokens, tau: c.p.tau, rule,
          delta: uploadTensor(ctx, c.p.delta, [n]), zero: uploadTensor(ctx, c.p.zero, [n]),
        }));
        const out = { dx: await readTensor(ctx, got.dx!), ddelta: await readTensor(ctx, got.ddelta) };
        gpuGradsClose(out, uniformQuantBackwardRef(x, dy, c.p, rule), dy, `uniform_quant_backward ${c.name} ${label}`, true);
      }
    });
  }

  test('PPOQ: ∂L/∂Δ accumulated over two chunks; no dx asked', async () => {
    const ctx = await getGpu();
    const c = PPOQ4, x = randomArray(c.rows * c.cols, 40, -1.5, 1.5), dy = randomArray(x.length, 41), shape = [c.rows, c.cols];
    const got = await record(ctx, (enc) => {
      const o = { bits: 4, granularity: 'token' as const, tokens: 5, tau: 0.9, rule: STE_LSQ, dx: false,
        delta: uploadTensor(ctx, c.p.delta, [5]), zero: uploadTensor(ctx, c.p.zero, [5]) };
      const first = uniformQuantBackward(ctx, enc, uploadTensor(ctx, x, shape), uploadTensor(ctx, dy, shape), o);
      expect(first.dx).toBeNull();
      return uniformQuantBackward(ctx, enc, uploadTensor(ctx, x, shape), uploadTensor(ctx, dy, shape), { ...o, ddelta: first.ddelta, accumulate: true });
    });
    const r = uniformQuantBackwardRef(x, dy, c.p, STE_LSQ);
    const twice = { ...r, ddelta: r.ddelta.map((v) => 2 * v), ddeltaAbs: r.ddeltaAbs.map((v) => 2 * v) };
    gpuGradsClose({ dx: null, ddelta: await readTensor(ctx, got.ddelta) }, twice, dy, 'uniform_quant_backward PPOQ accumulated', true);
  });

  test('guards: per-channel step sizes of the wrong length and PPOQ without tokens are refused', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const t = uploadTensor(ctx, new Float32Array(6), [2, 3]), one = uploadTensor(ctx, Float32Array.of(1), [1]);
    expect(() => uniformQuantBackward(ctx, enc, t, t, { bits: 4, granularity: 'channel', delta: one, zero: one, rule: STE_LSQ })).toThrow(ShapeError);
    expect(() => uniformQuantBackward(ctx, enc, t, t, { bits: 4, granularity: 'tensor', tau: 1, delta: one, zero: one, rule: STE_LSQ })).toThrow(UsageError);
  });
});

describe('log_quant_backward on the GPU against the twin', () => {
  const cases: LCase[] = [
    { name: 'log√2, 4 bits, 1000 values (post-softmax)', n: 1000, bits: 4, delta: 1, base: 'sqrt2', lo: -0.1, hi: 1.3 },
    { name: 'log2, 3 bits, 300 values', n: 300, bits: 3, delta: 0.75, base: '2', lo: -0.2, hi: 1.5 },
    { name: 'SLQ, dynamic min with 3 ties, 6 bits, 37 × 29', n: 37 * 29, bits: 6, delta: 2.5, base: 'sqrt2', shift: 'min', lo: -0.17, hi: 3.5 },
    { name: 'SLQ, constant shift −0.16997, 4 bits, 2500 values', n: 2500, bits: 4, delta: 2, base: 'sqrt2', shift: -0.16997, lo: -0.16997, hi: 3 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const ctx = await getGpu();
      const x = randomArray(c.n, 50, c.lo, c.hi), dy = randomArray(x.length, 51);
      if (c.shift === 'min') for (const i of [3, 500, 1000]) x[i] = f32(c.lo - 0.01);
      if (c.shift === undefined && c.delta === 1) {
        // u = x exactly: the first ratios of the top region and of the last level, and the floats below them.
        const top = logTopThreshold(c.base), last = logThresholds(c.bits, c.base)[2 ** c.bits - 1];
        [top, top - 1, last, last - 1].forEach((b, i) => { x[10 + i] = bitsF32(b); });
      }
      const m = shiftOf(c, x);
      for (const [label, rule] of [['default', NONE_ROUND], ['ste-lsq', STE_LSQ]] as const) {
        const got = await record(ctx, (enc) => {
          const o = { bits: c.bits, base: c.base, rule, delta: uploadTensor(ctx, Float32Array.of(c.delta), [1]) };
          const xt = uploadTensor(ctx, x, [x.length]), dyt = uploadTensor(ctx, dy, [x.length]);
          if (c.shift === undefined) return logQuantBackward(ctx, enc, xt, dyt, o);
          return slqQuantBackward(ctx, enc, xt, dyt, { ...o, shift: c.shift === 'min' ? uploadTensor(ctx, Float32Array.of(m!), [1]) : c.shift });
        });
        const out = { dx: await readTensor(ctx, got.dx!), ddelta: await readTensor(ctx, got.ddelta) };
        const r = logQuantBackwardRef(x, dy, { bits: c.bits, delta: c.delta, base: c.base, shift: m, shiftGrad: c.shift === 'min' }, rule);
        gpuGradsClose(out, r, dy, `log_quant_backward ${c.name} ${label}`, c.shift !== 'min');
      }
    });
  }

  test('guards: the shift gradient needs dx', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const t = uploadTensor(ctx, new Float32Array(6), [6]), one = uploadTensor(ctx, Float32Array.of(1), [1]);
    expect(() => slqQuantBackward(ctx, enc, t, t, { bits: 4, delta: one, shift: one, rule: NONE_ROUND, dx: false })).toThrow(UsageError);
  });
});
