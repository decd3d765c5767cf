// QDrop input mixing (ADFQ §5.4): the seeded integer-hash mask of the twin, then the GPU kernel against it.
// - Statistics of the twin's mask on 3 × 197 × 65 = 38,415 elements: the kept share, the share of
//   neighbours (i, i + 1) that agree (p² + (1 − p)² for independent draws) and the share of elements whose
//   mask changes with the step or the seed (2p(1 − p)), each within 5 binomial standard deviations
//   (the data are fixed, so this either always passes or never; 5σ leaves room for a fair hash).
// - GPU vs twin: bit for bit (the mask is integer-only), on odd sizes, for several (prob, seed, step).
import { describe, expect, test } from 'vitest';
import { qdropMix } from '../src/engine/kernels/train/qdrop-mix.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError, UsageError } from '../src/engine/errors.ts';
import { lowbias32, qdropMask, qdropMixRef, qdropThreshold } from '../src/engine/reference/train/qdrop-mix.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { getGpu, record } from './helpers/gpu.ts';

const N = 3 * 197 * 65;
const share = (n: number, pred: (i: number) => boolean) => { let c = 0; for (let i = 0; i < n; i++) if (pred(i)) c++; return c / n; };
/** |observed − expected| within 5 standard deviations of a binomial share over n draws. */
function expectShare(observed: number, expected: number, n: number, what: string) {
  const sigma = Math.sqrt((expected * (1 - expected)) / n);
  if (!(Math.abs(observed - expected) <= 5 * sigma)) throw new Error(`${what}: share ${observed}, expected ${expected} ± ${5 * sigma}`);
}

describe('qdrop_mix twin', () => {
  test('lowbias32 equals the C definition in uint32 arithmetic; the threshold is round(prob·2^24)', () => {
    const inputs = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, ...Array.from(randomArray(200, 3, 0, 2 ** 32), Math.floor)];
    expect(inputs.map(lowbias32)).toEqual(inputs.map(computeC));
    expect([0, 0.5, 1, 1 / 3].map(qdropThreshold)).toEqual([0, 2 ** 23, 2 ** 24, 5592405]);
  });

  for (const prob of [0.5, 0.1, 0.93]) {
    test(`prob ${prob}: kept share, independent neighbours, fresh masks per step and per seed`, () => {
      const m = qdropMask(N, { prob, seed: 7, step: 100 });
      expectShare(share(N, (i) => m[i] === 1), prob, N, 'kept');
      expectShare(share(N - 1, (i) => m[i] === m[i + 1]), prob ** 2 + (1 - prob) ** 2, N - 1, 'neighbours agree');
      const flip = 2 * prob * (1 - prob);
      for (const other of [{ seed: 7, step: 101 }, { seed: 8, step: 100 }, { seed: 7, step: 0 }]) {
        const o = qdropMask(N, { prob, ...other });
        expectShare(share(N, (i) => m[i] !== o[i]), flip, N, `changed for seed ${other.seed}, step ${other.step}`);
      }
    });
  }

  test('prob 0 takes xfp, prob 1 takes xq; guards', () => {
    const xq = randomArray(101, 1, 1, 2), xfp = randomArray(101, 2, -2, -1);
    expect(qdropMixRef(xq, xfp, { prob: 0, seed: 3, step: 4 })).toEqual(xfp);
    expect(qdropMixRef(xq, xfp, { prob: 1, seed: 3, step: 4 })).toEqual(xq);
    for (const bad of [{ prob: 1.01, seed: 0, step: 0 }, { prob: 0.5, seed: -1, step: 0 }, { prob: 0.5, seed: 0, step: 2 ** 32 }, { prob: NaN, seed: 0, step: 0 }]) {
      expect(() => qdropMask(4, bad)).toThrow(UsageError);
    }
  });
});

describe('qdrop_mix on the GPU against the twin', () => {
  const cases = [
    { shape: [37, 29], prob: 0.5, seed: 0, step: 0 },
    { shape: [3 * 197, 65], prob: 0.5, seed: 12345, step: 2999 },
    { shape: [1, 7], prob: 0.3, seed: 0xffffffff, step: 0xffffffff },
    { shape: [5, 13], prob: 0, seed: 1, step: 1 },
    { shape: [5, 13], prob: 1, seed: 1, step: 1 },
  ];
  for (const c of cases) {
    test(`[${c.shape.join(', ')}], prob ${c.prob}, seed ${c.seed}, step ${c.step}: bit for bit`, async () => {
      const ctx = await getGpu();
      const n = c.shape[0] * c.shape[1];
      const xq = randomArray(n, 10, 1, 2), xfp = randomArray(n, 11, -2, -1);
      const out = await record(ctx, (enc) => qdropMix(ctx, enc, uploadTensor(ctx, xq, c.shape), uploadTensor(ctx, xfp, c.shape), c));
      allClose(await readTensor(ctx, out), qdropMixRef(xq, xfp, c), { atol: 0, rtol: 0 }, 'qdrop_mix');
    });
  }

  test('guards: shapes, aliasing out, prob and integer seed/step', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const a = uploadTensor(ctx, new Float32Array(6), [2, 3]), b = uploadTensor(ctx, new Float32Array(6), [2, 3]);
    const o = { prob: 0.5, seed: 1, step: 1 };
    expect(() => qdropMix(ctx, enc, a, uploadTensor(ctx, new Float32Array(6), [3, 2]), o)).toThrow(ShapeError);
    expect(() => qdropMix(ctx, enc, a, b, { ...o, out: a })).toThrow(UsageError);
    expect(() => qdropMix(ctx, enc, a, b, { ...o, prob: -0.1 })).toThrow(UsageError);
    expect(() => qdropMix(ctx, enc, a, b, { ...o, step: 1.5 })).toThrow(UsageError);
  });
});

/** lowbias32 written with BigInt modular arithmetic, as the C reference's uint32_t steps. */
function computeC(v: number): number {
  const M = 0xffffffffn;
  let x = BigInt(v);
  x ^= x >> 16n; x = (x * 0x7feb352dn) & M;
  x ^= x >> 15n; x = (x * 0x846ca68bn) & M;
  x ^= x >> 16n;
  return Number(x);
}
