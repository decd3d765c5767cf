// torch.quantile in float32 (the vectors README's rule) and the f32 helpers it rests on: every stored
// hi/lo of the percentile-MSE vectors is reproduced bit for bit, and the numpy-style f64 quantile is not.
import { describe, expect, test } from 'vitest';
import { fmaF32, lowerLevel, roundHalfEven, sortedF32, torchQuantile } from '../src/engine/calibration/index.ts';
import { quantilesRef } from '../src/engine/reference/stats/quantile.ts';
import { loadVectors, sameF32 } from './calib-vectors.ts';

describe('f32 helpers', () => {
  test('roundHalfEven sends ties to even, unlike Math.round', () => {
    // (the sign of a zero result is not kept: it never matters once z is added)
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -3.7].map((x) => roundHalfEven(x) + 0)).toEqual([-2, -2, 0, 0, 2, 2, 2, -4]);
  });

  test('fmaF32 rounds a + b·c once, also where f64-then-f32 would round twice', () => {
    // b·c = 2^-24 + 2^-57 exactly, so 1 + b·c lies just above the f32 midpoint 1 + 2^-24 and rounds up;
    // in f64 the 2^-57 is lost, and the tie then rounds to even (1).
    const b = Math.fround(1 + 2 ** -11), c = Math.fround((1 - 2 ** -11 + 2 ** -22) * 2 ** -24);
    expect(b * c).toBe(2 ** -24 + 2 ** -57);
    expect(fmaF32(1, b, c)).toBe(1 + 2 ** -23);
    expect(Math.fround(1 + b * c)).toBe(1);
    expect(fmaF32(1.5, 0.25, 2)).toBe(2);
    expect(fmaF32(3, -1, 3)).toBe(0);
  });

  test('torchQuantile hits order statistics exactly and rounds p to f32', () => {
    const s = sortedF32([5, 1, 4, 2, 3]);
    expect([0, 0.25, 0.5, 1].map((p) => torchQuantile(s, p))).toEqual([1, 2, 3, 5]);
    expect(torchQuantile(s, 0.1)).toBe(Math.fround(1 + Math.fround(Math.fround(0.1) * 4)));
    expect(lowerLevel(0.999)).toBe(0.0010000000000000009);
  });
});

const cases = loadVectors('uniform_percentile_mse.json');
describe.skipIf(!cases)('torchQuantile against the stored hi/lo', () => {
  test('per-tensor cases: every candidate hi and lo, bit for bit; the f64 numpy quantile differs', () => {
    let numpyDiffers = 0;
    for (const c of cases!.filter((k) => k.settings.granularity === 'per_tensor')) {
      const s = sortedF32(c.input.data);
      for (const cand of c.params.candidates) {
        const hi = torchQuantile(s, cand.p), lo = torchQuantile(s, lowerLevel(cand.p));
        expect(sameF32(hi, cand.hi), `${c.name} p=${cand.p} hi ${hi} vs ${cand.hi}`).toBe(true);
        expect(sameF32(lo, cand.lo), `${c.name} p=${cand.p} lo ${lo} vs ${cand.lo}`).toBe(true);
        const [nlo, nhi] = quantilesRef([Float32Array.from(c.input.data)], [lowerLevel(cand.p), cand.p]);
        if (nlo !== cand.lo || nhi !== cand.hi) numpyDiffers++;
      }
    }
    expect(numpyDiffers).toBeGreaterThan(0);
  });
});
