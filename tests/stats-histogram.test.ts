// GPU histograms and threshold counts against their CPU twins (tests/stats-cases.ts): integer counts
// must match exactly, including values at bin edges, at hi, just outside [lo, hi], NaNs and infinities.
import { describe, expect, test } from 'vitest';
import { UsageError } from '../src/engine/errors.ts';
import { releaseTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { countAbove, countAboveInit, histogram, histogramInit, readCountAbove, readHistogram } from '../src/engine/kernels/index.ts';
import { countAboveRef, histogramRef } from '../src/engine/reference/stats/histogram.ts';
import { getGpu, record } from './helpers/gpu.ts';
import { batchesOf, STATS_CASES, THRESHOLDS } from './stats-cases.ts';

describe('histogram on the GPU', () => {
  for (const c of STATS_CASES) {
    for (const forceGlobal of c.hist.bins + 3 <= 2048 ? [false, true] : [false]) {
      test(`${c.name}, ${c.hist.bins} bins over [${c.hist.lo}, ${c.hist.hi}]${forceGlobal ? ', global atomics' : ''}`, async () => {
        const ctx = await getGpu();
        const data = batchesOf(c);
        const xs = data.map((d) => uploadTensor(ctx, d, [c.rows, c.cols]));
        const acc = await record(ctx, (e) => histogramInit(ctx, e, c.hist));
        for (const x of xs) await record(ctx, (e) => histogram(ctx, e, x, acc, { forceGlobal }));
        const got = await readHistogram(ctx, acc), ref = histogramRef(data, c.hist);
        expect({ under: got.under, over: got.over, nans: got.nans }).toEqual({ under: ref.under, over: ref.over, nans: ref.nans });
        const bad = got.counts.findIndex((n, i) => n !== ref.counts[i]);
        expect(bad, `bin ${bad}: ${got.counts[bad]} vs ${ref.counts[bad]}`).toBe(-1);
        expect(got.counts.reduce((a, b) => a + b, 0) + got.under + got.over + got.nans).toBe(2 * c.rows * c.cols);
        for (const t of [...xs, acc.counts]) releaseTensor(ctx, t);
      });
    }
  }

  test('65,536 bins over [0, 65536): integer values land in their own bin', async () => {
    const ctx = await getGpu();
    const v = Float32Array.from({ length: 3 * 385 }, (_, i) => (i * 57) % 65536);
    const h = { bins: 65_536, lo: 0, hi: 65_536 };
    const acc = await record(ctx, (e) => { const a = histogramInit(ctx, e, h); histogram(ctx, e, uploadTensor(ctx, v, [3, 385]), a); return a; });
    const got = await readHistogram(ctx, acc);
    expect(got.counts).toEqual(histogramRef([v], h).counts);
    expect(got.counts[57 * 7]).toBe(1);
  });

  test('rejects bad bin counts and ranges', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    expect(() => histogramInit(ctx, enc, { bins: 65_537, lo: 0, hi: 1 })).toThrow(UsageError);
    expect(() => histogramInit(ctx, enc, { bins: 0, lo: 0, hi: 1 })).toThrow(UsageError);
    expect(() => histogramInit(ctx, enc, { bins: 10, lo: 1, hi: 1 })).toThrow(UsageError);
    expect(() => histogramInit(ctx, enc, { bins: 10, lo: -3e38, hi: 3e38 })).toThrow(UsageError);
  });
});

describe('count_above on the GPU', () => {
  for (const c of STATS_CASES) {
    test(`${c.name}`, async () => {
      const ctx = await getGpu();
      const data = batchesOf(c);
      const xs = data.map((d) => uploadTensor(ctx, d, [c.rows, c.cols]));
      const acc = await record(ctx, (e) => countAboveInit(ctx, e, THRESHOLDS));
      for (const x of xs) await record(ctx, (e) => countAbove(ctx, e, x, acc));
      expect(await readCountAbove(ctx, acc)).toEqual(countAboveRef(data, THRESHOLDS));
      for (const t of [...xs, acc.counts]) releaseTensor(ctx, t);
    });
  }

  test('rejects more than 8 or negative thresholds', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    expect(() => countAboveInit(ctx, enc, [...THRESHOLDS, 1])).toThrow(UsageError);
    expect(() => countAboveInit(ctx, enc, [-1])).toThrow(UsageError);
    expect(() => countAboveInit(ctx, enc, [])).toThrow(UsageError);
  });
});
