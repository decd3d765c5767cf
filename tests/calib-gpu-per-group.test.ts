// Per-group percentile-MSE on the GPU against the CPU twins (calibration/per-group.ts): PPOQ per token
// position over [b_i, tokens, channels] chunks of different batch sizes (outliers past τ, an all-zero
// token, outlier counts exact), and per output column of a weight [rows, cols] (constant columns,
// heavy-tailed columns). Δ, z, hi, lo identical, chosen p equal, MSEs within 1e-5 relative.
import { describe, expect, test } from 'vitest';
import { percentileMsePerColumn, percentileMsePerToken, type UniformInit } from '../src/engine/calibration/index.ts';
import { gpuPercentileMsePerColumn, gpuPercentileMsePerToken, gpuSegmentedOrderStatistics } from '../src/engine/calibration/gpu/index.ts';
import { ShapeError, UsageError } from '../src/engine/errors.ts';
import { uploadTensor } from '../src/engine/gpu/tensor.ts';
import { gpuErrors, getGpu } from './helpers/gpu.ts';
import { chunks, relDiff, release, synthetic, upload } from './calib-gpu-cases.ts';

/** Δ, z, hi, lo and p identical, MSE within 1e-5 relative; returns the worst MSE difference. */
function compareInits(got: readonly UniformInit[], want: readonly UniformInit[], what: string): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  got.forEach((g, s) => {
    const w = want[s];
    expect([g.chosenP, g.delta, g.zeroPoint, g.hi, g.lo], `${what} ${s}`).toEqual([w.chosenP, w.delta, w.zeroPoint, w.hi, w.lo]);
    g.candidates.forEach((c, k) => {
      expect([c.delta, c.zeroPoint], `${what} ${s} p ${c.p}`).toEqual([w.candidates[k].delta, w.candidates[k].zeroPoint]);
      const d = relDiff(c.mse, w.candidates[k].mse);
      worst = Math.max(worst, d);
      expect(d, `${what} ${s} p ${c.p}: mse ${c.mse} vs ${w.candidates[k].mse}`).toBeLessThan(1e-5);
    });
  });
  return worst;
}

describe('PPOQ per-token percentile-MSE on the GPU = percentileMsePerToken', () => {
  const T = 197, C = 45;
  for (const [tau, bits, sizes] of [[5, 4, [3, 2, 1]], [10, 6, [2, 3]], [5, 8, [1, 1, 2]]] as [number, number, number[]][]) {
    test(`[${sizes.join('+')}, ${T}, ${C}], τ ${tau}, ${bits} bit`, async () => {
      const ctx = await getGpu();
      const batch = sizes.reduce((a, b) => a + b, 0), data = synthetic('ln', batch * T * C, 100 + bits, C);
      for (let b = 0; b < batch; b++) data.fill(0, (b * T + 4) * C, (b * T + 5) * C);  // token 4 all zero
      for (let b = 0; b < batch; b++) data.fill(3.5, (b * T + 9) * C, (b * T + 10) * C);  // token 9 constant
      const xs = upload(ctx, chunks(data, T * C, sizes), [T, C]);
      const inUse = ctx.pool.bytesInUse;
      const got = await gpuPercentileMsePerToken(ctx, xs, T, C, tau, bits);
      expect(ctx.pool.bytesInUse, 'every temporary buffer released').toBe(inUse);
      const want = percentileMsePerToken(data, [batch, T, C], tau, bits);
      expect(got.outlierCountPerToken).toEqual(want.outlierCountPerToken);
      expect(got.outlierCount).toBe(want.outlierCount);
      expect(want.outlierCount).toBeGreaterThan(batch * T / 2);  // channel 7 (and 30 at τ 5) and the spikes
      compareInits(got.tokens, want.tokens, 'token');
      expect(Number.isNaN(got.tokens[4].delta) || got.tokens[4].delta === 0).toBe(true);
      release(ctx, xs);
      expect(gpuErrors).toEqual([]);
    });
  }

  test('[B·N, C] views, 6 percentiles (two candidate dispatches), τ below every value', async () => {
    const ctx = await getGpu();
    const T = 7, C = 33, data = synthetic('t3', 5 * T * C, 3, C), ps = [0.5, 0.9, 0.99, 0.999, 0.9999, 1];
    const xs = chunks(data, T * C, [2, 3]).map((p) => uploadTensor(ctx, p, [p.length / C, C]));
    for (const tau of [5, 0.05, -1]) {
      const got = await gpuPercentileMsePerToken(ctx, xs, T, C, tau, 4, ps), want = percentileMsePerToken(data, [5, T, C], tau, 4, ps);
      expect(got.outlierCountPerToken).toEqual(want.outlierCountPerToken);
      compareInits(got.tokens, want.tokens, `τ ${tau} token`);
    }
    release(ctx, xs);
  });

  test('shape and NaN errors', async () => {
    const ctx = await getGpu();
    const x = uploadTensor(ctx, new Float32Array(2 * 3 * 5), [2, 3, 5]);
    await expect(gpuPercentileMsePerToken(ctx, x, 4, 5, 5, 4)).rejects.toThrow(ShapeError);
    const bad = new Float32Array(30).fill(1);
    bad[7] = NaN;
    const y = uploadTensor(ctx, bad, [2, 3, 5]);
    await expect(gpuPercentileMsePerToken(ctx, y, 3, 5, 5, 4)).rejects.toThrow(UsageError);
    release(ctx, [x, y]);
  });
});

describe('per-column percentile-MSE on the GPU = percentileMsePerColumn', () => {
  for (const [rows, cols, bits] of [[45, 131, 4], [197, 37, 6], [768, 9, 8], [3, 5, 4]] as [number, number, number][]) {
    test(`[${rows}, ${cols}], ${bits} bit`, async () => {
      const ctx = await getGpu();
      const w = synthetic('laplace', rows * cols, rows + cols);
      for (let r = 0; r < rows; r++) {
        w[r * cols + 1] = 0.25;  // constant column
        w[r * cols + cols - 1] *= r % 17 === 0 ? 40 : 0.01;  // heavy-tailed column
      }
      const x = uploadTensor(ctx, w, [rows, cols]);
      const inUse = ctx.pool.bytesInUse;
      const got = await gpuPercentileMsePerColumn(ctx, x, rows, cols, bits);
      expect(ctx.pool.bytesInUse).toBe(inUse);
      compareInits(got, percentileMsePerColumn(w, rows, cols, bits), 'column');
      release(ctx, [x]);
    });
  }

  test('an infinite weight: that column goes to the CPU twin, the rest stay equal', async () => {
    const ctx = await getGpu();
    const rows = 50, cols = 7, w = synthetic('t3', rows * cols, 8);
    w[3 * cols + 2] = Infinity;
    w[9 * cols + 2] = -Infinity;
    const x = uploadTensor(ctx, w, [rows, cols]);
    const got = await gpuPercentileMsePerColumn(ctx, x, rows, cols, 4), want = percentileMsePerColumn(w, rows, cols, 4);
    expect(got.map((g) => [g.chosenP, g.delta, g.zeroPoint])).toEqual(want.map((g) => [g.chosenP, g.delta, g.zeroPoint]));
    release(ctx, [x]);
  });
});

describe('segmented exact order statistics', () => {
  test('every rank of every segment equals the sorted segment (ties, ±0, subnormals, ±inf)', async () => {
    const ctx = await getGpu();
    const segments = 5, inner = 3, outer = 7, n = outer * inner;
    const special = [0, -0, 1e-45, -1e-45, Infinity, -Infinity, 3, 3, 3, -2.5, 1e30];
    const data = Float32Array.from({ length: outer * segments * inner }, (_, i) => (i % 4 === 0 ? special[i % special.length] : Math.round(Math.sin(i) * 8) / 4));
    const x = uploadTensor(ctx, data, [outer, segments, inner]);
    const ranks = Array.from({ length: n }, (_, k) => k);
    const got = await gpuSegmentedOrderStatistics(ctx, [x], { segments, inner, ranks });
    for (let s = 0; s < segments; s++) {
      const seg = new Float32Array(n);
      for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) seg[o * inner + j] = data[(o * segments + s) * inner + j];
      seg.sort();
      const mine = got.values.slice(s * n, (s + 1) * n);
      expect([...mine].map((v, k) => Object.is(v, seg[k]))).toEqual(new Array(n).fill(true));
    }
    release(ctx, [x]);
  });
});
