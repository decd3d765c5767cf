// The CPU twins of the statistics kernels on hand-checked examples: they are the oracles of the GPU
// suites (tests/stats-*.test.ts), so their own rules (bin edges, ±0, NaN, interpolation) are pinned here.
import { describe, expect, test } from 'vitest';
import { UsageError } from '../src/engine/errors.ts';
import { binOf, countAboveRef, histogramRef, histogramScale } from '../src/engine/reference/stats/histogram.ts';
import { channelMinMaxRef, minMaxRef, tokenMinMaxRef } from '../src/engine/reference/stats/min-max.ts';
import { quantilesRef, sortedValues } from '../src/engine/reference/stats/quantile.ts';

const F = (...v: number[]) => new Float32Array(v);
const up = (x: number) => { const a = F(x); new Uint32Array(a.buffer)[0]++; return a[0]; };

describe('min/max twins', () => {
  test('skip and count NaNs; -0 below +0', () => {
    expect(minMaxRef([F(NaN, 3, -1), F(NaN)])).toEqual({ min: -1, max: 3, nans: 2 });
    const z = minMaxRef([F(0, -0)]);
    expect(Object.is(z.min, -0) && Object.is(z.max, 0)).toBe(true);
    expect(minMaxRef([F()])).toEqual({ min: Infinity, max: -Infinity, nans: 0 });
  });

  test('per channel and per token', () => {
    // two images of 2 tokens × 3 channels
    const a = F(1, 2, 3, 4, 5, 6), b = F(-1, 9, NaN, 0, 0, 7);
    expect(channelMinMaxRef([a, b], 3)).toEqual({ min: F(-1, 0, 3), max: F(4, 9, 7) });
    expect(tokenMinMaxRef([a, b], 3, 2)).toEqual({ min: F(-1, 0), max: F(9, 7) });
  });
});

describe('histogram twin', () => {
  const h = { bins: 16, lo: -2, hi: 2 }, s = histogramScale(16, -2, 2);
  test('edges: lo in bin 0, hi in the last bin, strictly outside is under/over', () => {
    expect(s).toBe(4);
    expect([-2, -1.75, up(-1.75), 0, -0, 1.75, 2].map((x) => binOf(x, 16, -2, 2, s))).toEqual([0, 1, 0, 8, 8, 15, 15]);
    expect([up(2), -up(2), NaN, Infinity, -Infinity].map((x) => binOf(x, 16, -2, 2, s))).toEqual([17, 16, 18, 17, 16]);
    const r = histogramRef([F(-2, 2, 3, NaN), F(-3, 0)], h);
    expect([r.counts[0], r.counts[8], r.counts[15], r.under, r.over, r.nans]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test('rejects empty, overflowing and too narrow ranges', () => {
    expect(() => histogramScale(4, 1, 1)).toThrow(UsageError);
    expect(() => histogramScale(4, -3e38, 3e38)).toThrow(UsageError);
    expect(() => histogramScale(65536, 0, 1e-36)).toThrow(/too narrow/);
  });

  test('count above is strict, on |x|, in f32, without NaNs', () => {
    expect(countAboveRef([F(5, -5, up(5), NaN), F(-11, 0.1)], [5, 10, 0.1])).toEqual([2, 1, 4]);  // 0.1 itself is not above fround(0.1)
  });
});

describe('quantile twin', () => {
  test('numpy linear interpolation', () => {
    const q = quantilesRef([F(4, 1), F(3, 2)], [0, 0.1, 1 / 3, 0.5, 1]);
    expect(q[0]).toBe(1);
    expect(q[1]).toBeCloseTo(1.3, 14);  // numpy.quantile([1,2,3,4], 0.1) == 1.3
    expect(q.slice(2)).toEqual([2, 2.5, 4]);
  });

  test('NaNs ignored, -0 before +0, infinities kept, empty gives NaN', () => {
    expect([...sortedValues([F(0, NaN, -0, 1)])].map((v) => Object.is(v, -0))).toEqual([true, false, false]);
    expect(quantilesRef([F(NaN, -Infinity, 1, Infinity)], [0, 0.5, 1])).toEqual([-Infinity, 1, Infinity]);
    expect(quantilesRef([F(Infinity, Infinity)], [0.5])).toEqual([Infinity]);
    expect(quantilesRef([F(NaN)], [0.5])).toEqual([NaN]);
    expect(() => quantilesRef([F(1)], [1.5])).toThrow(UsageError);
  });
});
