// The 2-D grid search (q, kᵀ, v) against the reference vectors: Δ, z, the winning range and index
// exactly; then the histogram form (65,536 bins) against the exact search on the same inputs and on
// synthetic heavy-tailed data, both with per-bin means and with bin centres (counts only).
import { describe, expect, test } from 'vitest';
import { gridCandidates, gridSearch, gridSearchHistogram, type GridInit } from '../src/engine/calibration/index.ts';
import { loadVectors, sameF32 } from './calib-vectors.ts';

const cases = loadVectors('grid_search.json');
const exact = new Map<string, GridInit>();

describe.skipIf(!cases)('grid search, exact, against the vectors', () => {
  for (const c of cases ?? []) {
    test(c.name, () => {
      const got = gridSearch(c.input.data, c.settings.n_bits), p = c.params;
      exact.set(c.name, got);
      expect(got.side).toBe(c.settings.search === '1D' ? 'positive' : 'two-sided');
      expect(got.winningIndex).toEqual(p.winning_index);
      expect(got.zeroPoint).toBe(p.zero_point);
      for (const [g, w] of [[got.delta, p.delta], [got.bestMin, p.best_min], [got.bestMax, p.best_max], [got.xMin, p.x_min], [got.xMax, p.x_max]]) {
        expect(sameF32(g, w), `${g} vs ${w}`).toBe(true);
      }
      expect(Math.abs(got.score / p.score - 1)).toBeLessThan(1e-5);  // f64 sum vs the reference's f32 mean
    });
  }
});

describe.skipIf(!cases)('grid search, histogram form, agrees with the exact one on the vectors', () => {
  for (const c of cases ?? []) {
    test(c.name, () => {
      const want = exact.get(c.name) ?? gridSearch(c.input.data, c.settings.n_bits);
      for (const representative of ['mean', 'center'] as const) {
        const got = gridSearchHistogram(c.input.data, c.settings.n_bits, { representative });
        expect([got.winningIndex, got.delta, got.zeroPoint], representative).toEqual([want.winningIndex, want.delta, want.zeroPoint]);
      }
    });
  }
});

/** Deterministic heavy-tailed data (LCG + Box–Muller). */
function synthetic(kind: 'laplace' | 't3' | 'outlier-channels' | 'lognormal' | 'neg-lognormal', n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 2 ** 32; };
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Float32Array.from({ length: n }, (_, i) => {
    switch (kind) {
      case 'laplace': { const v = u() - 0.5; return -Math.sign(v) * Math.log(1 - 2 * Math.abs(v)); }
      case 't3': return g() / Math.sqrt((g() ** 2 + g() ** 2 + g() ** 2) / 3);
      case 'outlier-channels': return g() * (i % 64 === 5 ? 20 : 1) + 0.2;
      case 'lognormal': return Math.exp(g());
      case 'neg-lognormal': return -Math.exp(1.5 * g());
    }
  });
}

describe('grid search, histogram form, on synthetic heavy tails', () => {
  // Small n keeps the suite fast; the measurements with coarser bins are in the calibration README.
  const inputs = [
    ['laplace', 4, 4096], ['t3', 4, 4096], ['outlier-channels', 4, 4096], ['lognormal', 4, 8192], ['neg-lognormal', 6, 8192],
  ] as const;
  for (const [kind, bits, n] of inputs) {
    test(`${kind}, ${n} values, ${bits} bit`, () => {
      const x = synthetic(kind, n, 7 + bits), want = gridSearch(x, bits);
      for (const representative of ['mean', 'center'] as const) {
        const got = gridSearchHistogram(x, bits, { representative });
        expect(got.winningIndex, representative).toEqual(want.winningIndex);
        expect(got.delta).toBe(want.delta);
      }
    });
  }

  test('candidates: 100·L on two-sided data in (i, zp) order, 100 on one-sided; constant data is one bin', () => {
    expect(gridCandidates(-1, 2, 4).map((c) => c.index.join())).toEqual(
      Array.from({ length: 1600 }, (_, k) => `${Math.floor(k / 16) + 1},${k % 16}`));
    const neg = gridCandidates(-3, -0.5, 4);
    expect([neg.length, neg[99].lo, neg[99].hi, neg[99].zeroPoint]).toEqual([100, -3, 0, 15]);
    const flat = gridSearchHistogram(new Float32Array(10).fill(0.5), 4);
    expect([flat.side, flat.zeroPoint, flat.score]).toEqual(['positive', 0, 0]);
  });
});
