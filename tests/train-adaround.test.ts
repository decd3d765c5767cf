// AdaRound (ADFQ §5.3, STYLE habit 7): the twin's ∂L/∂α and the rounding regulariser's gradient against
// central differences of the float64 soft weights and regulariser (h = 1e-4·max(|α|, 1), α kept 0.05 away
// from h's clamp at ±log 11, within 1e-5 relative; the regulariser term by term), α's initialisation
// (h(α₀) = frac(W/Δw)), hardening, the β schedule; then the GPU entry points against the twin: hardened
// weights exactly, the others within the tolerances below (float32 σ, log and pow against float64).
import { afterAll, describe, expect, test } from 'vitest';
import { adaroundAlphaGrad, adaroundInitAlpha, adaroundWeights } from '../src/engine/kernels/train/adaround.ts';
import { roundRegSchedule } from '../src/engine/kernels/train/schedules.ts';
import { readPartialSum } from '../src/engine/kernels/train/sum-partials.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError } from '../src/engine/errors.ts';
import { divF32 } from '../src/engine/reference/quant/rounding.ts';
import { uniformQuantRef } from '../src/engine/reference/quant/uniform-quant.ts';
import {
  adaroundInitRef, alphaGradRef, hardWeightsRef, roundLossRef, softTarget, softWeightsRef, type AdaRoundParams,
} from '../src/engine/reference/train/adaround.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { dot, expectGradClose, numericGrad, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));
const fd = (f: (x: Float64Array) => number, x: ArrayLike<number>, analytic: ArrayLike<number>, what: string) =>
  worst.push(`${what}: ${expectGradClose(numericGrad(f, x), analytic, what).worst.toExponential(2)} (finite differences)`);
function gpuClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol: number; rtol: number }, what: string) {
  allClose(actual, expected, tol, what);
  const d = worstDiff(actual, expected);
  worst.push(`${what}: |diff| ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)} (GPU vs twin)`);
}

/** A [rows, cols] weight in [-1, 1] with per-column Δw in [0.05, 0.2] and zw in 2..12 (4 bits: some codes clamp). */
function layer(rows: number, cols: number, seed: number): { w: Float32Array; p: AdaRoundParams } {
  return {
    w: randomArray(rows * cols, seed),
    p: { bits: 4, cols, delta: randomArray(cols, seed + 1, 0.05, 0.2), zero: Float32Array.from(randomArray(cols, seed + 2, 2, 12), Math.round) },
  };
}
const LOG11 = Math.log(11);
/** α in [-4, 4], at least 0.05 away from ±log 11 where h(α) meets its clamp. */
const alphas = (n: number, seed: number) =>
  Float64Array.from(randomArray(n, seed, -4, 4), (a) => (Math.abs(Math.abs(a) - LOG11) < 0.05 ? a * 0.9 : a));

describe('AdaRound twin', () => {
  const { w, p } = layer(13, 7, 1);

  test('α₀: h(α₀) = frac(W/Δw), |α₀| ≤ log 11, soft weights = W inside the range, hardening = nearest rounding', () => {
    const a0 = adaroundInitRef(w, p);
    let worstFrac = 0, worstW = 0;
    for (let i = 0; i < w.length; i++) {
      const u = divF32(w[i], p.delta[i % p.cols]);
      worstFrac = Math.max(worstFrac, Math.abs(softTarget(a0[i]) - (u - Math.floor(u))));
      expect(Math.abs(a0[i])).toBeLessThanOrEqual(LOG11 + 1e-12);
    }
    const soft = softWeightsRef(w, a0, p), top = 15;
    for (let i = 0; i < w.length; i++) {
      const c = i % p.cols, d = p.delta[c], z = p.zero[c], u = divF32(w[i], d);
      const expected = d * (Math.min(Math.max(u + z, 0), top) - z);  // W itself where u + z is in range
      worstW = Math.max(worstW, Math.abs(soft[i] - expected));
    }
    expect(worstFrac).toBeLessThan(1e-12);
    expect(worstW).toBeLessThan(1e-12);
    worst.push(`h(α₀) − frac(W/Δw): ${worstFrac.toExponential(2)}; W̃(α₀) − W: ${worstW.toExponential(2)} (float64)`);
    // [α₀ ≥ 0] = [frac ≥ 0.5]: the hardened initial weights are round-to-nearest (no exact ties in random data).
    const nearest = uniformQuantRef(w, { bits: 4, granularity: 'channel', delta: p.delta, zero: p.zero, cols: p.cols }).y;
    expect(Array.from(hardWeightsRef(w, a0, p))).toEqual(Array.from(nearest));
  });

  test('hardening: floor(W/Δw) + [α ≥ 0], clamped, in float32', () => {
    const a = alphas(w.length, 2);
    a[0] = 0; a[1] = -0;  // α = 0 rounds up
    const hard = hardWeightsRef(w, a, p);
    for (let i = 0; i < w.length; i++) {
      const c = i % p.cols, q = Math.min(Math.max(Math.floor(divF32(w[i], p.delta[c])) + (a[i] >= 0 ? 1 : 0) + p.zero[c], 0), 15);
      expect(hard[i]).toBe(Math.fround((q - p.zero[c]) * p.delta[c]));
    }
  });

  test('∂L/∂α of L = Σ G·W̃(α), rows 13, out 7', () => {
    const a = alphas(w.length, 3), g = randomArray(w.length, 4);
    fd((v) => dot(softWeightsRef(w, v, p), g), a, alphaGradRef(w, a, g, p), 'AdaRound dα');
  });

  for (const beta of [20, 11.5, 2]) {
    test(`rounding regulariser λ·Σ(1 − |2h − 1|^β): its gradient, β ${beta}, and its sum with the soft weights' part`, () => {
      const a = alphas(w.length, 5), g = randomArray(w.length, 6), reg = { coef: 0.01, beta };
      // A sum of one term per weight, so differentiated term by term: a summed loss would bury the 1e-10
      // gradients of |2h − 1|^20 near h = 1/2 under the rounding errors of the steep terms.
      const numeric = Array.from(a, (ai) => numericGrad((v) => roundLossRef(v, reg), [ai])[0]);
      const alone = alphaGradRef(w, a, new Float64Array(w.length), p, reg);
      worst.push(`L_round dα (β ${beta}) pointwise: ${expectGradClose(numeric, alone, `L_round dα (β ${beta})`).worst.toExponential(2)} (finite differences)`);
      // With dsoft, ∂(Σ G·W̃ + L_round)/∂α is the sum of the two checked parts.
      const plain = alphaGradRef(w, a, g, p);
      allClose(alphaGradRef(w, a, g, p, reg), plain.map((v, i) => v + alone[i]), { atol: 0, rtol: 1e-15 }, 'dα with the regulariser');
    });
  }

  test('β schedule: off for the first 20 % of steps, then β from 20 linearly to 2 at the last step', () => {
    const iters = 100;
    expect(roundRegSchedule(0, iters)).toEqual({ coef: 0, beta: 20 });
    expect(roundRegSchedule(18, iters)).toEqual({ coef: 0, beta: 20 });  // t = 19 < 20
    expect(roundRegSchedule(19, iters)).toEqual({ coef: 0.01, beta: 20 });
    expect(roundRegSchedule(59, iters).beta).toBeCloseTo(11, 12);
    expect(roundRegSchedule(99, iters)).toEqual({ coef: 0.01, beta: 2 });
    expect(roundRegSchedule(9, 10, { weight: 1, warmup: 0, betaStart: 10, betaEnd: 4 })).toEqual({ coef: 1, beta: 4 });
  });
});

describe('adaround kernels on the GPU against the twin', () => {
  // σ, log and pow in float32 (WGSL: exp 3 + 2|x| ulp, log 2^-21 absolute near 1, pow from exp2·log2).
  const ALPHA_TOL = { atol: 2e-6, rtol: 2e-6 };
  for (const [rows, cols] of [[13, 7], [192, 37], [1, 1]]) {
    test(`init, soft and hard weights, ∂L/∂α with and without the regulariser: ${rows} × ${cols}`, async () => {
      const ctx = await getGpu();
      const { w, p } = layer(rows, cols, 10 + rows);
      const a = Float32Array.from(alphas(w.length, 20 + rows)), g = randomArray(w.length, 30 + rows);
      const reg = { coef: 0.01, beta: 7.25 };
      const shape = [rows, cols];
      const got = await record(ctx, (enc) => {
        const o = { bits: 4, delta: uploadTensor(ctx, p.delta, [cols]), zero: uploadTensor(ctx, p.zero, [cols]) };
        const wt = uploadTensor(ctx, w, shape), at = uploadTensor(ctx, a, shape), gt = uploadTensor(ctx, g, shape);
        const a0 = adaroundInitAlpha(ctx, enc, wt, o);
        return {
          a0, soft0: adaroundWeights(ctx, enc, wt, a0, o), soft: adaroundWeights(ctx, enc, wt, at, o), hard: adaroundWeights(ctx, enc, wt, at, { ...o, hard: true }),
          plain: adaroundAlphaGrad(ctx, enc, wt, at, gt, o), withReg: adaroundAlphaGrad(ctx, enc, wt, at, gt, { ...o, reg }),
        };
      });
      const tag = `${rows}×${cols}`, dmax = Math.max(...p.delta);
      gpuClose(await readTensor(ctx, got.a0), adaroundInitRef(w, p), { atol: 2e-6, rtol: 1e-6 }, `adaround init_alpha ${tag}`);
      // Soft weights: floor(u) + h + zw in float32 (|code| ≤ 40), times Δw.
      const wTol = { atol: 8e-6 * dmax, rtol: 0 };
      gpuClose(await readTensor(ctx, got.soft0), softWeightsRef(w, adaroundInitRef(w, p), p), wTol, `adaround soft_weights at α₀ ${tag}`);
      gpuClose(await readTensor(ctx, got.soft), softWeightsRef(w, a, p), wTol, `adaround soft_weights ${tag}`);
      allClose(await readTensor(ctx, got.hard), hardWeightsRef(w, a, p), { atol: 0, rtol: 0 }, `adaround hard_weights ${tag}`);
      gpuClose(await readTensor(ctx, got.plain.dalpha), alphaGradRef(w, a, g, p), ALPHA_TOL, `adaround alpha_grad ${tag}`);
      gpuClose(await readTensor(ctx, got.withReg.dalpha), alphaGradRef(w, a, g, p, reg), ALPHA_TOL, `adaround alpha_grad + L_round ${tag}`);
      expect(await readPartialSum(ctx, got.plain.partials)).toBe(0);
      const loss = await readPartialSum(ctx, got.withReg.partials), expected = roundLossRef(a, reg);
      expect(Math.abs(loss - expected)).toBeLessThanOrEqual(1e-5 * expected);
      worst.push(`adaround L_round ${tag}: ${loss} vs ${expected}, rel ${(Math.abs(loss - expected) / expected).toExponential(2)} (GPU vs twin)`);
    });
  }

  test('shape guards', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const w = uploadTensor(ctx, new Float32Array(6), [2, 3]), d = uploadTensor(ctx, new Float32Array(2), [2]);
    expect(() => adaroundInitAlpha(ctx, enc, w, { bits: 4, delta: d, zero: d })).toThrow(/delta must have shape \[3\]/);
    const d3 = uploadTensor(ctx, Float32Array.of(1, 1, 1), [3]);
    expect(() => adaroundAlphaGrad(ctx, enc, w, w, uploadTensor(ctx, new Float32Array(6), [3, 2]), { bits: 4, delta: d3, zero: d3 })).toThrow(ShapeError);
  });
});
