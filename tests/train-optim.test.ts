// Optimiser pieces of ASMO (ADFQ §5.3, §5.4): the reconstruction loss twin against central differences
// (h = 1e-4·max(|x|, 1), within 1e-5 relative), the cosine schedule, Adam on the GPU against its float64
// twin over several steps, the reconstruction loss and the sum_partials reduction on the GPU.
import { afterAll, describe, expect, test } from 'vitest';
import { adamStep } from '../src/engine/kernels/train/adam.ts';
import { reconLoss } from '../src/engine/kernels/train/recon-loss.ts';
import { cosineLr } from '../src/engine/kernels/train/schedules.ts';
import { readPartialSum, sumPartials } from '../src/engine/kernels/train/sum-partials.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError, UsageError } from '../src/engine/errors.ts';
import { adamStepRef } from '../src/engine/reference/train/adam.ts';
import { reconLossRef } from '../src/engine/reference/train/recon-loss.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { expectGradClose, numericGrad, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));
function gpuClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol: number; rtol: number }, what: string) {
  allClose(actual, expected, tol, what);
  const d = worstDiff(actual, expected);
  worst.push(`${what}: |diff| ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)} (GPU vs twin)`);
}

describe('twins and schedules', () => {
  test('L_rec = Σ(ŷ − y)²/(B·C): gradient against finite differences, 2 images × 5 tokens × 7', () => {
    const y = randomArray(70, 1), t = randomArray(70, 2);
    const r = reconLossRef(y, t, 2, 7);
    const g = expectGradClose(numericGrad((v) => reconLossRef(v, t, 2, 7).loss, y), r.grad, 'L_rec dŷ');
    worst.push(`L_rec dŷ: ${g.worst.toExponential(2)} (finite differences)`);
    let direct = 0;
    for (let i = 0; i < 70; i++) direct += (y[i] - t[i]) ** 2;
    expect(r.loss).toBeCloseTo(direct / 14, 14);
  });

  test('cosine learning rate: lr at step 0, lr/2 half way, towards 0 at the end, decreasing', () => {
    expect(cosineLr(0, 100, 4e-5)).toBe(4e-5);
    expect(cosineLr(50, 100, 4e-5)).toBeCloseTo(2e-5, 18);
    expect(cosineLr(100, 100, 4e-5)).toBeCloseTo(0, 20);
    const lrs = Array.from({ length: 100 }, (_, s) => cosineLr(s, 100, 3e-3));
    expect(lrs.every((v, i) => i === 0 || v < lrs[i - 1])).toBe(true);
    expect(lrs[99]).toBeGreaterThan(0);
  });

  test('Adam twin: the first step moves every parameter by lr·sign(g) (bias-corrected), zero gradients leave it', () => {
    const p = Float64Array.from(randomArray(50, 3)), g = randomArray(50, 4), before = p.slice();
    g[0] = 0;
    adamStepRef(p, g, new Float64Array(50), new Float64Array(50), { lr: 1e-3, step: 1 });
    expect(p[0]).toBe(before[0]);
    for (let i = 1; i < 50; i++) expect(before[i] - p[i]).toBeCloseTo(1e-3 * Math.sign(g[i]), 8);
  });
});

describe('optimiser kernels on the GPU against their twins', () => {
  test('adam: 6 steps on 1000 weights (lr 3e-3) and on a step size with cosine lr and a lower bound', async () => {
    const ctx = await getGpu();
    for (const c of [{ n: 1000, lr: (s: number) => 3e-3 + 0 * s, lower: undefined as number | undefined },
      { n: 3, lr: (s: number) => cosineLr(s, 6, 4e-3), lower: 1e-6 }]) {
      const p0 = c.lower ? Float32Array.of(0.01, 2e-3, 5e-6) : randomArray(c.n, 5);
      const state = { param: uploadTensor(ctx, p0, [c.n]), m: uploadTensor(ctx, new Float32Array(c.n), [c.n]), v: uploadTensor(ctx, new Float32Array(c.n), [c.n]) };
      const ref = { p: Float64Array.from(p0), m: new Float64Array(c.n), v: new Float64Array(c.n) };
      for (let s = 0; s < 6; s++) {
        const g = c.lower ? Float32Array.of(0.3, 1, 2) : randomArray(c.n, 10 + s, -1 + 0.1 * s, 1);
        await record(ctx, (enc) => adamStep(ctx, enc, state, uploadTensor(ctx, g, [c.n]), { lr: c.lr(s), step: s + 1, lower: c.lower }));
        adamStepRef(ref.p, g, ref.m, ref.v, { lr: c.lr(s), step: s + 1, lower: c.lower });
      }
      const tag = c.lower ? 'step sizes (cosine lr, lower 1e-6)' : '1000 weights';
      if (c.lower) expect(ref.p[2]).toBe(1e-6);  // the bound held the smallest step size
      gpuClose(await readTensor(ctx, state.param), ref.p, { atol: 1e-7, rtol: 1e-6 }, `adam param after 6 steps, ${tag}`);
      gpuClose(await readTensor(ctx, state.m), ref.m, { atol: 1e-7, rtol: 1e-6 }, `adam m after 6 steps, ${tag}`);
      gpuClose(await readTensor(ctx, state.v), ref.v, { atol: 1e-9, rtol: 1e-6 }, `adam v after 6 steps, ${tag}`);
    }
  });

  test('adam guards', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const t = uploadTensor(ctx, new Float32Array(4), [4]);
    expect(() => adamStep(ctx, enc, { param: t, m: t, v: t }, t, { lr: 1e-3, step: 0 })).toThrow(UsageError);
    expect(() => adamStep(ctx, enc, { param: t, m: t, v: t }, uploadTensor(ctx, new Float32Array(3), [3]), { lr: 1e-3, step: 1 })).toThrow(ShapeError);
  });

  for (const [batch, tokens, channels] of [[2, 5, 7], [3, 197, 13], [4, 1, 10]]) {
    test(`recon_loss: ${batch} × ${tokens} × ${channels}, loss by host sum and into a history buffer by sum_partials`, async () => {
      const ctx = await getGpu();
      const n = batch * tokens * channels, shape = [batch * tokens, channels];
      const y = randomArray(n, 20), t = randomArray(n, 21, -1.2, 0.8);
      const history = uploadTensor(ctx, Float32Array.of(7, 7, 7, 7, 7), [5]);
      const got = await record(ctx, (enc) => {
        const r = reconLoss(ctx, enc, uploadTensor(ctx, y, shape), uploadTensor(ctx, t, shape), { batch });
        sumPartials(ctx, enc, r.partials, { out: history, offset: 3 });
        return r;
      });
      const r = reconLossRef(y, t, batch, channels), tag = `${batch}×${tokens}×${channels}`;
      gpuClose(await readTensor(ctx, got.grad), r.grad, { atol: 1e-7, rtol: 1e-6 }, `recon_loss grad ${tag}`);
      const host = await readPartialSum(ctx, got.partials), hist = await readTensor(ctx, history);
      expect(Math.abs(host - r.loss)).toBeLessThanOrEqual(1e-6 * r.loss);
      expect(Math.abs(hist[3] - r.loss)).toBeLessThanOrEqual(1e-6 * r.loss);
      expect([hist[0], hist[1], hist[2], hist[4]]).toEqual([7, 7, 7, 7]);
      worst.push(`recon_loss loss ${tag}: host sum rel ${(Math.abs(host - r.loss) / r.loss).toExponential(2)}, GPU sum rel ${(Math.abs(hist[3] - r.loss) / r.loss).toExponential(2)} (GPU vs twin)`);
    });
  }

  test('recon_loss guards: shapes differ, batch does not divide the rows', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const a = uploadTensor(ctx, new Float32Array(12), [4, 3]);
    expect(() => reconLoss(ctx, enc, a, uploadTensor(ctx, new Float32Array(12), [3, 4]), { batch: 2 })).toThrow(ShapeError);
    expect(() => reconLoss(ctx, enc, a, a, { batch: 3 })).toThrow(ShapeError);
  });

  test('sum_partials: interleaved entries over a block, overwrite then accumulate', async () => {
    const ctx = await getGpu();
    const parts = randomArray(5000, 30), entries = 7, base = 13, count = 4900;
    const out = await record(ctx, (enc) => {
      const pt = uploadTensor(ctx, parts, [5000]);
      const o = sumPartials(ctx, enc, pt, { entries, base, count });
      return sumPartials(ctx, enc, pt, { entries, base, count, out: o, accumulate: true });
    });
    const expected = new Float64Array(entries), scale = new Float64Array(entries);
    for (let t = 0; t < count; t++) { expected[t % entries] += 2 * parts[base + t]; scale[t % entries] += 2 * Math.abs(parts[base + t]); }
    const got = await readTensor(ctx, out);
    for (let j = 0; j < entries; j++) expect(Math.abs(got[j] - expected[j])).toBeLessThanOrEqual(1e-6 * scale[j]);
    worst.push(`sum_partials: |diff| ${worstDiff(got, expected).abs.toExponential(2)} (GPU vs float64)`);
  });
});
