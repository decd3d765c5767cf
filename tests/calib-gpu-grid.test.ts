// The 2-D grid search on the GPU (histogram form, 65,536 bins with bin means) against its CPU twin
// gridSearchHistogram / gridSearchFromBins(binSummary(x)): the bin summary (counts exact, means within
// 1e-6 relative of the bin width-scaled value), every candidate's score (1e-5 relative) and the chosen
// candidate (winning index, Δ within 1e-6 relative, z) on two-sided, one-sided and heavy-tailed data
// split over several tensors, at 4, 6 and 8 bits; constant data as on the CPU.
import { describe, expect, test } from 'vitest';
import { binSummary, gridCandidates, gridSearchFromBins, gridSearchHistogram, LP_NORM, uniformFq, type BinSummary } from '../src/engine/calibration/index.ts';
import { gpuBinSummary, gpuGridScores, gpuGridSearch } from '../src/engine/calibration/gpu/index.ts';
import { UsageError } from '../src/engine/errors.ts';
import { uploadTensor } from '../src/engine/gpu/tensor.ts';
import { gpuErrors, getGpu } from './helpers/gpu.ts';
import { chunks, relDiff, release, synthetic, upload, type Kind } from './calib-gpu-cases.ts';

function expectSummary(got: BinSummary, want: BinSummary): void {
  expect([got.xMin, got.xMax]).toEqual([want.xMin, want.xMax]);
  expect(Array.from(got.counts)).toEqual(Array.from(want.counts));
  const width = (want.xMax - want.xMin) / 65536;
  let worst = 0;
  got.values.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - want.values[k]) / Math.max(Math.abs(want.values[k]), width)); });
  expect(worst, 'worst mean difference').toBeLessThan(1e-6);
}

/** Scores of the candidates `keep` selects as gridSearchFromBins computes them (NaN for the others). */
function cpuScores(s: BinSummary, bits: number, keep: (k: number) => boolean): number[] {
  let total = 0;
  for (const c of s.counts) total += c;
  return gridCandidates(s.xMin, s.xMax, bits).map(({ delta, zeroPoint }, j) => {
    if (!keep(j)) return NaN;
    let sum = 0;
    for (let k = 0; k < s.values.length; k++) {
      const v = s.values[k];
      sum += s.counts[k] * Math.fround(Math.abs(Math.fround(v - uniformFq(v, delta, zeroPoint, 2 ** bits))) ** LP_NORM);
    }
    return sum / total;
  });
}

describe('grid search on the GPU = gridSearchHistogram (65,536 bins, bin means)', () => {
  const cases: [Kind, number, number[]][] = [
    ['laplace', 4, [3, 2, 1]], ['t3', 4, [2, 3]], ['outlier-channels', 6, [1, 2]], ['lognormal', 6, [2, 1, 1]],
    ['neg-lognormal', 4, [1, 1]], ['gelu', 8, [1, 1]], ['t3', 8, [1]],
  ];
  for (const [kind, bits, sizes] of cases) {
    // Sizes keep the CPU twin (bins × 100·L candidates in JS) to a few seconds.
    const sample = bits === 8 ? 401 : bits === 6 ? 197 * 15 : 197 * 45, batch = sizes.reduce((a, b) => a + b, 0);
    test(`${kind}, ${sizes.join('+')} × ${sample}, ${bits} bit`, async () => {
      const ctx = await getGpu();
      const data = synthetic(kind, batch * sample, 41 + bits), xs = upload(ctx, chunks(data, sample, sizes), [sample]);
      const wantSummary = binSummary(data);
      const summary = await gpuBinSummary(ctx, xs);
      expectSummary(summary, wantSummary);
      const inUse = ctx.pool.bytesInUse;
      const got = await gpuGridSearch(ctx, xs, bits), ref = gridSearchHistogram(data, bits, { bins: 65536, representative: 'mean' });
      // Every 7th candidate's score (all of them on one-sided data) against the CPU's formula.
      const scores = await gpuGridScores(ctx, wantSummary, bits), want = cpuScores(wantSummary, bits, (k) => k % 7 === 0 || ref.side !== 'two-sided');
      let worst = 0;
      scores.forEach((s, k) => { if (!Number.isNaN(want[k])) worst = Math.max(worst, relDiff(s, want[k])); });
      expect(worst, 'worst score difference').toBeLessThan(1e-5);
      expect([got.side, got.winningIndex, got.zeroPoint]).toEqual([ref.side, ref.winningIndex, ref.zeroPoint]);
      expect(relDiff(got.delta, ref.delta)).toBeLessThan(1e-6);
      expect(relDiff(got.score, ref.score)).toBeLessThan(1e-5);
      expect(ctx.pool.bytesInUse, 'every temporary buffer released').toBe(inUse);
      release(ctx, xs);
      expect(gpuErrors).toEqual([]);
    });
  }

  test('constant tensors: one bin, the same pick as the CPU (no throw)', async () => {
    const ctx = await getGpu();
    for (const v of [0, 0.5, -3]) {
      const data = new Float32Array(517).fill(v), x = uploadTensor(ctx, data, [517]);
      const got = await gpuGridSearch(ctx, x, 4), want = gridSearchFromBins(binSummary(data), 4);
      expect([got.side, got.winningIndex, got.delta, got.zeroPoint, got.score]).toEqual([want.side, want.winningIndex, want.delta, want.zeroPoint, want.score]);
      release(ctx, [x]);
    }
  });

  test('NaN and empty input throw UsageError as on the CPU', async () => {
    const ctx = await getGpu();
    const x = uploadTensor(ctx, Float32Array.of(1, NaN, 3), [3]);
    await expect(gpuGridSearch(ctx, x, 4)).rejects.toThrow(UsageError);
    await expect(gpuGridSearch(ctx, [], 4)).rejects.toThrow(UsageError);
    release(ctx, [x]);
  });

  test('bin sums stay exact with values of both signs and very different magnitudes in one bin', async () => {
    const ctx = await getGpu();
    const data = synthetic('t3', 3001, 77);
    data[0] = 1e4; data[1] = -1e4;  // bins 0.3 wide: ±1e-30..±0.1 share the bins around 0
    for (let k = 0; k < 200; k++) data[2 + k] = (k % 2 ? -1 : 1) * 10 ** -(k % 40);
    const x = uploadTensor(ctx, data, [3001]);
    expectSummary(await gpuBinSummary(ctx, x), binSummary(data));
    release(ctx, [x]);
  });
});
