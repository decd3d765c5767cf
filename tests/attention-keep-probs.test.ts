// attention() with a probability quantizer and keepProbs: it returns the quantized map P·v read (probsQ)
// next to P instead of releasing it (module-wise optimisation needs P̂ for dV = P̂ᵀ·dO). P against the twin
// at the attention cases' tolerance (atol 1e-5, rtol 1e-4), P̂ equal to logQuantRef(P) bit for bit, out equal
// to P̂·v of the twin within the same tolerance; ownership: after the caller releases what it got back, the
// pool holds exactly what it held before (nothing leaked, nothing released twice).
import { describe, expect, test } from 'vitest';
import { attention } from '../src/engine/kernels/attention.ts';
import { logQuant } from '../src/engine/kernels/quant/log-quant.ts';
import { readTensor, releaseTensor, uploadTensor, type GpuTensor } from '../src/engine/gpu/tensor.ts';
import { attentionRef } from '../src/engine/reference/attention.ts';
import { logQuantRef } from '../src/engine/reference/quant/log-quant.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { getGpu, record } from './helpers/gpu.ts';

const TOL = { atol: 1e-5, rtol: 1e-4 };
const s = { batch: 2, tokens: 5, heads: 3, headDim: 3 }, dim = s.heads * s.headDim, rows = s.batch * s.tokens;
const q = { bits: 4, delta: 0.5 };

describe('attention keeps the quantized probability map', () => {
  for (const variant of ['workgroup', 'rows'] as const) {
    test(`quantizeProbs + keepProbs returns P and P̂, ${variant}`, async () => {
      const ctx = await getGpu();
      const qkv = randomArray(rows * 3 * dim, 1, -2, 2), qkvT = uploadTensor(ctx, qkv, [rows, 3 * dim]);
      const delta = uploadTensor(ctx, Float32Array.of(q.delta), [1]);
      const before = ctx.pool.bytesInUse;
      const got = await record(ctx, (enc) => attention(ctx, enc, qkvT, {
        batch: s.batch, heads: s.heads, variant, keepProbs: true, quantizeProbs: (p) => logQuant(ctx, enc, p, { bits: q.bits, delta }).y,
      }));
      const probs = await readTensor(ctx, got.probs!), probsQ = await readTensor(ctx, got.probsQ!);
      allClose(probs, attentionRef(qkv, s.batch, s.tokens, s.heads, s.headDim).probs, TOL, 'P');
      allClose(probsQ, logQuantRef(probs, q).y, { atol: 0, rtol: 0 }, 'P̂');
      allClose(await readTensor(ctx, got.out), weightedSum(probsQ, qkv), TOL, 'out');
      expect(got.probsQ!.shape).toEqual([s.batch, s.heads, s.tokens, s.tokens]);
      releaseAll(ctx, [got.out, got.probs!, got.probsQ!]);
      expect(ctx.pool.bytesInUse).toBe(before);
    });
  }

  test('a pass-through quantizer gives no probsQ; without keepProbs nothing but out is handed back', async () => {
    const ctx = await getGpu();
    const qkvT = uploadTensor(ctx, randomArray(rows * 3 * dim, 2, -2, 2), [rows, 3 * dim]);
    const delta = uploadTensor(ctx, Float32Array.of(q.delta), [1]);
    const before = ctx.pool.bytesInUse;
    const o = { batch: s.batch, heads: s.heads };
    const passThrough = await record(ctx, (enc) => attention(ctx, enc, qkvT, { ...o, keepProbs: true, quantizeProbs: (p) => p }));
    expect(passThrough.probsQ).toBeUndefined();
    const dropped = await record(ctx, (enc) => attention(ctx, enc, qkvT, { ...o, quantizeProbs: (p) => logQuant(ctx, enc, p, { bits: q.bits, delta }).y }));
    expect(Object.keys(dropped)).toEqual(['out']);
    releaseAll(ctx, [passThrough.out, passThrough.probs!, dropped.out]);
    expect(ctx.pool.bytesInUse).toBe(before);
  });
});

function releaseAll(ctx: Awaited<ReturnType<typeof getGpu>>, ts: GpuTensor[]) {
  for (const t of ts) releaseTensor(ctx, t);
}

/** out = P̂·v per (b, h), float64. */
function weightedSum(ph: Float32Array, qkv: Float32Array): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let b = 0; b < s.batch; b++) for (let h = 0; h < s.heads; h++) for (let i = 0; i < s.tokens; i++) for (let j = 0; j < s.tokens; j++) {
    const p = ph[((b * s.heads + h) * s.tokens + i) * s.tokens + j];
    for (let d = 0; d < s.headDim; d++) out[(b * s.tokens + i) * dim + h * s.headDim + d] += p * qkv[(b * s.tokens + j) * 3 * dim + 2 * dim + h * s.headDim + d];
  }
  return out;
}
