// CPU twins of the fake quantizers: bit-exact against every reference vector (codes, outputs, eval outputs,
// outlier counts), plus the float32 semantics the GPU relies on (ties, thresholds, ±0, clamping).
import { describe, expect, test } from 'vitest';
import { logCode, logLevel, logThresholds, SQRT2_F32 } from '../src/engine/reference/quant/log-quant.ts';
import { bitsF32, roundHalfEven } from '../src/engine/reference/quant/rounding.ts';
import { uniformQuantOne } from '../src/engine/reference/quant/uniform-quant.ts';
import { randomArray } from './helpers/all-close.ts';
import { QUANT_CASES, twinOf, VECTORS_PRESENT } from './quant-cases.ts';
import { sameBits } from './stats-cases.ts';

describe.skipIf(!VECTORS_PRESENT)('quantizer twins reproduce the reference vectors', () => {
  for (const c of QUANT_CASES.filter((q) => q.expect)) {
    test(c.name, () => {
      const r = twinOf(c), e = c.expect!;
      expect(sameBits(r.y, e.y), 'output').toBeNull();
      if (e.codes) expect([...r.codes]).toEqual([...e.codes]);
      if (e.perToken) expect([...r.perToken!]).toEqual([...e.perToken]);
      if (e.outliers !== undefined) expect(r.perToken!.reduce((a, b) => a + b, 0)).toBe(e.outliers);
    });
  }
});

describe('float32 semantics', () => {
  test('round half to even, also for negatives and ±0', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, -3.5, 7].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -4, 7]);
  });

  test('uniform: exact .5 ties go to even codes, clamping at 0 and L−1, z outside the range', () => {
    const d = 0.25;
    expect(uniformQuantOne(0.625, d, 0, 16)).toEqual([2, 0.5]);   // 2.5 → 2
    expect(uniformQuantOne(0.875, d, 0, 16)).toEqual([4, 1]);     // 3.5 → 4
    expect(uniformQuantOne(-0.125, d, 3, 16)).toEqual([3, 0]);    // −0.5 → −0, code z
    expect(uniformQuantOne(-9, d, 3, 16)).toEqual([0, -0.75]);
    expect(uniformQuantOne(9, d, 3, 16)).toEqual([15, 3]);
    expect(uniformQuantOne(1, d, -2, 4)).toEqual([2, 1]);
    expect(uniformQuantOne(-0, d, 0, 4)[0]).toBe(0);
  });

  test('log: thresholds are where the code changes; zero code for 0, negatives, tiny values', () => {
    for (const [bits, base] of [[3, 'sqrt2'], [6, 'sqrt2'], [8, 'sqrt2'], [4, '2']] as const) {
      const t = logThresholds(bits, base), L = 2 ** bits;
      for (let j = 0; j < L; j++) {
        expect(logCode(bitsF32(t[j]), bits, base)).toBeLessThanOrEqual(j);
        expect(logCode(bitsF32(t[j] - 1), bits, base)).toBeGreaterThan(j);
      }
      for (const u of randomArray(2000, bits, 0, 1.5)) {
        const byThreshold = [...t].findIndex((b) => u >= bitsF32(b));
        expect(logCode(u, bits, base)).toBe(byThreshold < 0 ? L : byThreshold);
      }
      expect([0, -0, -1, NaN].map((u) => logCode(u, bits, base))).toEqual([L, L, L, L]);
    }
    expect(logLevel(0, 4, 0.75)).toBe(0.75);
    expect(logLevel(1, 4, 1)).toBe(Math.fround(SQRT2_F32 / 2));
    expect(logLevel(16, 4, 1)).toBe(0);
  });
});
