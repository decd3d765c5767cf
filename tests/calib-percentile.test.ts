// Percentile-MSE initialisations against the reference vectors: the chosen Δ (and hi, lo) bit for bit in
// f32, z and the chosen p exactly, per tensor, per output channel (Linear and Conv, transposed to the
// canonical [in, out] layout), per PPOQ token (both τ, both bit widths), log√2 (incl. masked) and SLQ.
import { describe, expect, test } from 'vitest';
import {
  logSqrt2Fq, percentileMseLogSqrt2, percentileMsePerColumn, percentileMsePerToken, percentileMseSlq,
  percentileMseUniform, uniformFq, type UniformInit,
} from '../src/engine/calibration/index.ts';
import { loadVectors, sameF32, transpose, type VectorCase } from './calib-vectors.ts';

/** Checks one init against stored params (arrays indexed by `k` when per group). */
function expectUniform(got: UniformInit, p: VectorCase['params'], what: string, k?: number): void {
  const at = (v: number | number[]) => (k === undefined ? v : (v as number[])[k]) as number;
  for (const f of ['delta', 'hi', 'lo'] as const) {
    expect(sameF32(got[f], at(p[f])), `${what} ${f}: ${got[f]} vs ${at(p[f])}`).toBe(true);
  }
  expect(got.zeroPoint, `${what} z`).toBe(at(p.zero_point));
  expect(got.chosenP, `${what} p`).toBe(at(p.chosen_p));
}

const uniform = loadVectors('uniform_percentile_mse.json');
describe.skipIf(!uniform)('uniform percentile-MSE', () => {
  for (const c of uniform ?? []) {
    test(c.name, () => {
      const bits = c.settings.n_bits;
      if (c.settings.granularity === 'per_tensor') {
        const got = percentileMseUniform(c.input.data, bits);
        expectUniform(got, c.params, c.name);
        got.candidates.forEach((g, i) => {
          const want = c.params.candidates[i];
          expect([g.p, g.zeroPoint, sameF32(g.delta, want.delta)]).toEqual([want.p, want.zero_point, true]);
          expect(Math.abs(g.mse / want.mse - 1)).toBeLessThan(1e-6);  // f64 vs the reference's f32 mean
        });
        // The helper fake quant reproduces the stored output bit for bit.
        const out = c.input.data.map((x) => uniformFq(x, got.delta, got.zeroPoint, 2 ** bits));
        expect(out.every((v, i) => sameF32(v, c.output.data[i]))).toBe(true);
        return;
      }
      const [out, ...rest] = c.input.shape, inner = rest.reduce((a, b) => a * b, 1);
      const got = percentileMsePerColumn(transpose(c.input.data, out, inner), inner, out, bits);
      expect(got.length).toBe(out);
      got.forEach((g, o) => expectUniform(g, c.params, `${c.name} channel ${o}`, o));
    });
  }
});

const ppoq = loadVectors('ppoq.json');
describe.skipIf(!ppoq)('PPOQ per-token percentile-MSE', () => {
  for (const c of ppoq ?? []) {
    test(c.name, () => {
      const [b, n, ch] = c.input.shape;
      const got = percentileMsePerToken(Float32Array.from(c.input.data), [b, n, ch], c.settings.threshold!, c.settings.n_bits);
      expect(got.outlierCount).toBe(c.outlier_count);
      expect(got.outlierCountPerToken).toEqual(c.outlier_count_per_token);
      got.tokens.forEach((g, k) => expectUniform(g, c.params, `${c.name} token ${k}`, k));
    });
  }
});

const logs = loadVectors('log_sqrt2.json');
describe.skipIf(!logs)('log√2 percentile-MSE', () => {
  for (const c of logs ?? []) {
    test(c.name, () => {
      const got = percentileMseLogSqrt2(c.input.data, c.settings.n_bits);
      expect(sameF32(got.delta, c.params.delta), `Δ ${got.delta} vs ${c.params.delta}`).toBe(true);
      expect(got.chosenP).toBe(c.params.chosen_p);
      got.candidates.forEach((g, i) => expect(sameF32(g.delta, c.params.candidates[i].delta)).toBe(true));
      const out = c.input.data.map((x) => logSqrt2Fq(x, got.delta, 2 ** c.settings.n_bits));
      expect(out.every((v, i) => sameF32(v, c.output.data[i]))).toBe(true);
    });
  }
});

const slq = loadVectors('slq.json');
describe.skipIf(!slq)('SLQ percentile-MSE on the shifted values', () => {
  for (const c of slq ?? []) {
    test(c.name, () => {
      const got = percentileMseSlq(c.input.data, c.settings.n_bits);
      expect(sameF32(got.shiftMin, c.params.shift_min)).toBe(true);
      expect(sameF32(got.delta, c.params.delta), `Δ ${got.delta} vs ${c.params.delta}`).toBe(true);
      expect(got.chosenP).toBe(c.params.chosen_p);
      got.candidates.forEach((g, i) => {
        expect(sameF32(g.delta, c.params.candidates[i].delta)).toBe(true);
        expect(Math.abs(g.mse / c.params.candidates[i].mse - 1)).toBeLessThan(1e-6);
      });
    });
  }
});
