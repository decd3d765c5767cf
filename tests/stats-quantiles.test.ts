// Exact GPU quantiles (two-pass radix select) against the CPU twin (sort + pick + lerp): equal bit for
// bit, over several batch tensors at once, on heavy tails, ties, ±0, ±inf, NaN and constant data.
import { describe, expect, test } from 'vitest';
import { UsageError } from '../src/engine/errors.ts';
import { uploadTensor } from '../src/engine/gpu/tensor.ts';
import { gpuOrderStatistics, gpuQuantiles } from '../src/engine/kernels/index.ts';
import { quantilesRef, sortedValues } from '../src/engine/reference/stats/quantile.ts';
import { getGpu } from './helpers/gpu.ts';
import { batchesOf, QUANTILE_PS, STATS_CASES, type StatsCase } from './stats-cases.ts';

const HEAVY: StatsCase = { name: 'heavy 197×192', rows: 197, cols: 192, tokens: 197, kind: 'heavy', hist: { bins: 1, lo: 0, hi: 1 } };

describe('quantiles on the GPU', () => {
  for (const c of [HEAVY, ...STATS_CASES.filter((s) => s.kind !== 'edges')]) {
    test(`${c.name} ×2 batches`, async () => {
      const ctx = await getGpu();
      const data = batchesOf(c);
      const xs = data.map((d) => uploadTensor(ctx, d, [c.rows, c.cols]));
      const got = await gpuQuantiles(ctx, xs, QUANTILE_PS);
      const ref = quantilesRef(data, QUANTILE_PS);
      got.forEach((g, i) => expect(Object.is(g, ref[i]), `p=${QUANTILE_PS[i]}: ${g} vs ${ref[i]}`).toBe(true));
    });
  }

  test('every order statistic of a small tensor with ties, ±0 and infinities', async () => {
    const ctx = await getGpu();
    const v = new Float32Array([3, -0, 0, 1e-40, -Infinity, 3, NaN, -2.5, Infinity, 0, -1e30, 7]);
    const sorted = sortedValues([v]);
    const { n, values } = await gpuOrderStatistics(ctx, uploadTensor(ctx, v, [12]), (count) => Array.from({ length: count }, (_, k) => k));
    expect(n).toBe(11);
    expect(Array.from({ length: n }, (_, k) => Object.is(values.get(k), sorted[k]))).toEqual(new Array(n).fill(true));
  });

  test('batches of different sizes count as one data set; all-NaN gives NaN', async () => {
    const ctx = await getGpu();
    const a = new Float32Array([5, 1, 9]), b = new Float32Array(385).map((_, i) => Math.fround(Math.cos(i) * 4));
    const ps = [0, 0.3, 0.5, 0.97, 1];
    expect(await gpuQuantiles(ctx, [uploadTensor(ctx, a, [1, 3]), uploadTensor(ctx, b, [1, 385])], ps)).toEqual(quantilesRef([a, b], ps));
    expect(await gpuQuantiles(ctx, uploadTensor(ctx, new Float32Array(4).fill(NaN), [2, 2]), [0.5])).toEqual([NaN]);
  });

  test('rejects p outside [0, 1] and ranks outside the data', async () => {
    const ctx = await getGpu();
    await expect(gpuQuantiles(ctx, uploadTensor(ctx, new Float32Array(4), [4]), [0.5, 1.01])).rejects.toThrow(UsageError);
    await expect(gpuOrderStatistics(ctx, uploadTensor(ctx, new Float32Array(4), [4]), () => [4])).rejects.toThrow(/rank 4 is not in 0..3/);
  });
});
