// Per-tensor percentile-MSE on the GPU against the CPU twins (calibration/percentile-mse.ts): uniform,
// log√2 and SLQ with a constant shift, over data split into batch chunks of different sizes. Δ, z, hi
// and lo come from exact quantiles, so they must be identical; the chosen p equal; each candidate's MSE
// within 1e-5 relative (f32 partial sums on the GPU).
import { describe, expect, test } from 'vitest';
import { percentileMseLogSqrt2, percentileMseUniform, type LogInit, type UniformInit } from '../src/engine/calibration/index.ts';
import { gpuPercentileMseLogSqrt2, gpuPercentileMseSlqConst, gpuPercentileMseUniform } from '../src/engine/calibration/gpu/index.ts';
import { SLQ_EPS } from '../src/engine/calibration/per-group.ts';
import { UsageError } from '../src/engine/errors.ts';
import { uploadTensor, readTensor } from '../src/engine/gpu/tensor.ts';
import { slqShift } from '../src/engine/kernels/calib/slq-shift.ts';
import { SLQ_SHIFT } from '../src/engine/quant/params.ts';
import { gpuErrors, getGpu, record } from './helpers/gpu.ts';
import { chunks, nextUp, relDiff, release, synthetic, upload, type Kind } from './calib-gpu-cases.ts';

const SAMPLE = [197, 45] as const, N = 197 * 45, SIZES = [3, 2, 1];

function expectSameUniform(got: UniformInit, want: UniformInit): void {
  expect(got.chosenP).toBe(want.chosenP);
  expect([got.delta, got.zeroPoint, got.hi, got.lo]).toEqual([want.delta, want.zeroPoint, want.hi, want.lo]);
  got.candidates.forEach((c, k) => {
    const w = want.candidates[k];
    expect([c.p, c.hi, c.lo, c.delta, c.zeroPoint]).toEqual([w.p, w.hi, w.lo, w.delta, w.zeroPoint]);
    expect(relDiff(c.mse, w.mse), `p ${c.p}: mse ${c.mse} vs ${w.mse}`).toBeLessThan(1e-5);
  });
}

function expectSameLog(got: LogInit, want: LogInit): void {
  expect([got.chosenP, got.delta]).toEqual([want.chosenP, want.delta]);
  got.candidates.forEach((c, k) => {
    expect([c.p, c.delta]).toEqual([want.candidates[k].p, want.candidates[k].delta]);
    expect(relDiff(c.mse, want.candidates[k].mse), `p ${c.p}: mse ${c.mse} vs ${want.candidates[k].mse}`).toBeLessThan(1e-5);
  });
}

describe('uniform percentile-MSE on the GPU = percentileMseUniform', () => {
  const cases: [Kind, number][] = [['laplace', 4], ['t3', 6], ['outlier-channels', 8], ['lognormal', 4], ['neg-lognormal', 6], ['ln', 8]];
  for (const [kind, bits] of cases) {
    test(`${kind}, 6×197×45 in chunks 3/2/1, ${bits} bit`, async () => {
      const ctx = await getGpu();
      const data = synthetic(kind, 6 * N, 11 + bits), xs = upload(ctx, chunks(data, N, SIZES), SAMPLE);
      const inUse = ctx.pool.bytesInUse;
      const got = await gpuPercentileMseUniform(ctx, xs, bits);
      expect(ctx.pool.bytesInUse, 'every temporary buffer released').toBe(inUse);
      expectSameUniform(got, percentileMseUniform(data, bits));
      release(ctx, xs);
      expect(gpuErrors).toEqual([]);
    });
  }

  test('more candidates than one dispatch holds (6 percentiles, one with Δ < 0), and 1 tensor', async () => {
    const ctx = await getGpu();
    const data = synthetic('t3', 3 * N, 5), ps = [0.3, 0.9, 0.999, 0.9999, 0.99999, 1];
    const x = uploadTensor(ctx, data, [3, ...SAMPLE]);
    expectSameUniform(await gpuPercentileMseUniform(ctx, x, 4, ps), percentileMseUniform(data, 4, ps));
    release(ctx, [x]);
  });

  test('constant data: Δ = 0, NaN MSEs, the first p (as the CPU)', async () => {
    const ctx = await getGpu();
    for (const v of [0, 0.75, -2]) {
      const data = new Float32Array(1001).fill(v), x = uploadTensor(ctx, data, [1001]);
      const got = await gpuPercentileMseUniform(ctx, x, 4), want = percentileMseUniform(data, 4);
      expect([got.chosenP, got.delta, got.zeroPoint]).toEqual([want.chosenP, want.delta, want.zeroPoint]);
      expect(got.candidates.map((c) => c.mse)).toEqual(want.candidates.map((c) => c.mse));
      release(ctx, [x]);
    }
  });

  test('NaN and infinite data behave as on the CPU', async () => {
    const ctx = await getGpu();
    const nan = uploadTensor(ctx, Float32Array.of(1, NaN, 2), [3]);
    await expect(gpuPercentileMseUniform(ctx, nan, 4)).rejects.toThrow(UsageError);
    const data = synthetic('laplace', 3001, 3);
    data[17] = Infinity; data[2000] = -Infinity;
    const x = uploadTensor(ctx, data, [3001]);
    const got = await gpuPercentileMseUniform(ctx, x, 4), want = percentileMseUniform(data, 4);
    expect([got.chosenP, got.delta, got.zeroPoint]).toEqual([want.chosenP, want.delta, want.zeroPoint]);
    got.candidates.forEach((c, k) => expect(relDiff(c.mse, want.candidates[k].mse)).toBeLessThan(1e-5));
    release(ctx, [nan, x]);
  });
});

describe('log√2 percentile-MSE on the GPU = percentileMseLogSqrt2', () => {
  for (const [kind, bits] of [['softmax', 4], ['lognormal', 6], ['softmax', 8]] as [Kind, number][]) {
    test(`${kind}, 6×197×45 in chunks 3/2/1, ${bits} bit`, async () => {
      const ctx = await getGpu();
      const data = synthetic(kind, 6 * N, 23 + bits), xs = upload(ctx, chunks(data, N, SIZES), SAMPLE);
      expectSameLog(await gpuPercentileMseLogSqrt2(ctx, xs, bits), percentileMseLogSqrt2(data, bits));
      release(ctx, xs);
    });
  }

  test('exact zeros (the zero code) and a negative value (NaN MSEs) as on the CPU', async () => {
    const ctx = await getGpu();
    const data = synthetic('softmax', 5 * N, 3);
    for (let i = 0; i < data.length; i += 3) data[i] = 0;
    data[5] = -0;
    const x = uploadTensor(ctx, data, [5, ...SAMPLE]);
    expectSameLog(await gpuPercentileMseLogSqrt2(ctx, x, 4), percentileMseLogSqrt2(data, 4));
    data[8] = -1e-3;
    const y = uploadTensor(ctx, data, [5, ...SAMPLE]);
    const got = await gpuPercentileMseLogSqrt2(ctx, y, 4), want = percentileMseLogSqrt2(data, 4);
    expect([got.chosenP, got.delta, ...got.candidates.map((c) => c.mse)]).toEqual([want.chosenP, want.delta, ...want.candidates.map((c) => c.mse)]);
    release(ctx, [x, y]);
  });
});

/** cpuSearch.slqConst (quant/search-backend.ts): S = f32(x − m) + eps with m as given (also non-f32 shifts). */
function shiftedCpu(x: Float32Array, m: number): Float32Array {
  const s = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) s[i] = Math.fround(x[i] - m) + SLQ_EPS;
  return s;
}

describe('SLQ with a constant shift on the GPU = the CPU search backend', () => {
  test('S bit for bit, for SLQ_SHIFT and non-f32 shifts, on hard values', async () => {
    const ctx = await getGpu();
    const f = Math.fround, bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];
    const hard = [0, -0, 1e-45, -1e-45, 1e-40, 1e-30, -1e-30, 0.17005, -0.17005, f(-0.17005), f(0.17005), 1, 2, 1e3, 3e7, -3e7, 1e30, -1e30, 3e38];
    const data = Float32Array.from([...hard, ...synthetic('gelu', 20011, 9), ...synthetic('t3', 4001, 4)]);
    // x − m near an f32 rounding midpoint t + ulp(t)/2 (f32 arithmetic on f32(m) differs on ~8% of these,
    // and on ~43% of the GELU values, whose differences are small).
    for (let k = 0; k < 4000; k++) {
      const t = f(0.25 + k / 997), ulp = nextUp(t) - t;
      data[100 + k] = f(t + ulp / 2 + SLQ_SHIFT);
    }
    const x = uploadTensor(ctx, data, [data.length]);
    for (const m of [SLQ_SHIFT, -0.16997, 0.3, f(-0.17005), -1e-3, 1e-300, 0, 5e37]) {
      const s = await record(ctx, (enc) => slqShift(ctx, enc, x, m, SLQ_EPS));
      const got = await readTensor(ctx, s), want = shiftedCpu(data, m);
      const bad = [...want.keys()].filter((i) => bits(got[i]) !== bits(want[i]));
      expect(bad.slice(0, 5).map((i) => `x=${data[i]}: ${got[i]} vs ${want[i]}`), `shift ${m}: ${bad.length} differ`).toEqual([]);
      release(ctx, [s]);
    }
    release(ctx, [x]);
  });

  for (const bits of [4, 6, 8]) {
    test(`GELU-like 6×197×45 in chunks 3/2/1, ${bits} bit`, async () => {
      const ctx = await getGpu();
      const data = synthetic('gelu', 6 * N, 31 + bits), xs = upload(ctx, chunks(data, N, SIZES), SAMPLE);
      const inUse = ctx.pool.bytesInUse;
      const got = await gpuPercentileMseSlqConst(ctx, xs, bits, SLQ_SHIFT);
      expect(ctx.pool.bytesInUse).toBe(inUse);
      expectSameLog(got, percentileMseLogSqrt2(shiftedCpu(data, SLQ_SHIFT), bits));
      release(ctx, xs);
    });
  }
});
