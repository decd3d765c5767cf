// Attention backward through the post-softmax log quantizer (out = P̂·V, P̂ = logQuant(P), spec §5.5):
// - Twin against central differences (f64, h = 1e-4·max(|x|, 1), worst per-element relative error < 1e-5)
//   of surrogate forwards with the quantizer's codes and rounding residuals frozen at the base point:
//   'none' P̂ = P̂₀ (rounding without STE); 'ste' P̂ = P + (P̂₀ − P₀) where logRegion(f32(P₀)/Δ) is 'inside',
//   else P̂₀ (zero code, top clamp); 'pass' with P̂ given: P̂ = P + (P̂₀ − P₀). Loss Σ out·G + Σ P·Gp (the
//   extra gradient on P, e.g. the KL term).
// - GPU vs twin: atol 1e-5, rtol 1e-5 on dS and dqkv (as the float attention backward), including
//   probabilities placed exactly on the quantizer's region boundaries (Δ = 1: u = P), where a wrong region
//   decision would move dS by ~P·dP̂ ≫ the tolerance.
import { afterAll, describe, expect, test } from 'vitest';
import { attentionBackward, type DoutRule } from '../src/engine/kernels/train/attention-backward.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError, UsageError } from '../src/engine/errors.ts';
import { attentionRef } from '../src/engine/reference/attention.ts';
import { logQuantRef, logThresholds, type LogBase } from '../src/engine/reference/quant/log-quant.ts';
import { bitsF32, divF32, f32 } from '../src/engine/reference/quant/rounding.ts';
import { attentionBackwardRef } from '../src/engine/reference/train/attention-backward.ts';
import { logRegion, logTopThreshold } from '../src/engine/reference/train/quant-backward.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { dot, expectGradClose, numericGrad, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const GPU_TOL = { atol: 1e-5, rtol: 1e-5 };
const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));

interface Shape { batch: number; tokens: number; heads: number; headDim: number }
interface Quant { bits: number; delta: number; base: LogBase }
const sizes = (s: Shape) => ({ rows: s.batch * s.tokens, dim: s.heads * s.headDim, maps: s.batch * s.heads * s.tokens * s.tokens });
const probs64 = (qkv: ArrayLike<number>, s: Shape) => attentionRef(qkv, s.batch, s.tokens, s.heads, s.headDim, undefined, Float64Array).probs;
const quantize = (p: ArrayLike<number>, q: Quant) => logQuantRef(Float32Array.from(p), q).y;
const regions = (p: ArrayLike<number>, q: Quant) => Array.from(p, (v) => logRegion(divF32(f32(v), f32(q.delta)), q.bits, q.base));

/** out = P̂·V per (b, h), float64. */
function weightedSum(ph: ArrayLike<number>, qkv: ArrayLike<number>, s: Shape): Float64Array {
  const { rows, dim } = sizes(s), n = s.tokens, out = new Float64Array(rows * dim);
  for (let b = 0; b < s.batch; b++) for (let h = 0; h < s.heads; h++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const p = ph[((b * s.heads + h) * n + i) * n + j];
    for (let d = 0; d < s.headDim; d++) out[(b * n + i) * dim + h * s.headDim + d] += p * qkv[(b * n + j) * 3 * dim + 2 * dim + h * s.headDim + d];
  }
  return out;
}

describe('quantized attention backward twin against finite differences', () => {
  const s: Shape = { batch: 2, tokens: 5, heads: 3, headDim: 3 };
  const { rows, dim, maps } = sizes(s);
  // q, k, v in [-2, 2]: sharp rows, so P reaches both the top clamp and the zero code.
  const qkv = randomArray(rows * 3 * dim, 1, -2, 2), g = randomArray(rows * dim, 2), gp = randomArray(maps, 3);
  const quants: Quant[] = [{ bits: 3, delta: 0.4, base: 'sqrt2' }, { bits: 2, delta: 0.5, base: '2' }];

  for (const q of quants) {
    const p0 = probs64(qkv, s), ph0 = quantize(p0, q), region = regions(p0, q);
    /** The surrogate P̂ of each rule at probabilities p (codes and residuals frozen at p0). */
    const surrogate: Record<DoutRule, (p: Float64Array) => ArrayLike<number>> = {
      none: () => ph0,
      ste: (p) => p.map((v, k) => (region[k] === 'inside' ? v + (ph0[k] - p0[k]) : ph0[k])),
      pass: (p) => p.map((v, k) => v + (ph0[k] - p0[k])),
    };
    test(`log ${q.base}, ${q.bits} bits, Δ ${q.delta}: every region occurs`, () => {
      expect(new Set(region)).toEqual(new Set(['zero', 'top', 'inside']));
    });
    for (const rule of ['none', 'ste', 'pass'] as const) {
      test(`log ${q.base}, ${q.bits} bits: dqkv of Σ out·G + Σ P·Gp, doutRule '${rule}'`, () => {
        const loss = (v: Float64Array) => { const p = probs64(v, s); return dot(weightedSum(surrogate[rule](p), v, s), g) + dot(p, gp); };
        const r = attentionBackwardRef(qkv, p0, g, s.batch, s.tokens, s.heads, s.headDim, undefined, gp,
          { probsHat: ph0, doutRule: rule, probsQuant: q });
        const what = `dqkv '${rule}' (log ${q.base}, ${q.bits} bits)`;
        worst.push(`${what}: ${expectGradClose(numericGrad(loss, qkv), r.dqkv, what).worst.toExponential(2)} (finite differences)`);
      });
    }
  }

  test("'none' without an extra gradient: dQ = dK = 0, dV = P̂ᵀ·dO", () => {
    const q = quants[0], p0 = probs64(qkv, s), ph0 = quantize(p0, q);
    const r = attentionBackwardRef(qkv, p0, g, s.batch, s.tokens, s.heads, s.headDim, undefined, undefined, { probsHat: ph0, doutRule: 'none' });
    expect(r.dscores.every((v) => v === 0)).toBe(true);
    const dv = attentionBackwardRef(qkv, ph0, g, s.batch, s.tokens, s.heads, s.headDim).dqkv;
    r.dqkv.forEach((v, k) => expect(v).toBe(k % (3 * dim) < 2 * dim ? 0 : dv[k]));
  });
});

describe('quantized attention_backward on the GPU against the twin', () => {
  const shapes: Shape[] = [{ batch: 2, tokens: 5, heads: 3, headDim: 3 }, { batch: 2, tokens: 17, heads: 3, headDim: 8 }, { batch: 1, tokens: 1, heads: 1, headDim: 4 }];
  const quants: Quant[] = [{ bits: 4, delta: 0.3, base: 'sqrt2' }, { bits: 3, delta: 0.5, base: '2' }];
  for (const s of shapes) for (const q of quants) {
    test(`batch ${s.batch}, tokens ${s.tokens}, heads ${s.heads}, head_dim ${s.headDim}, log ${q.base} ${q.bits} bits`, async () => {
      const ctx = await getGpu();
      const { rows, dim, maps } = sizes(s);
      const qkv = randomArray(rows * 3 * dim, 11, -2, 2), dout = randomArray(rows * dim, 12), dp = randomArray(maps, 13);
      const { probs } = attentionRef(qkv, s.batch, s.tokens, s.heads, s.headDim);
      await compare(ctx, s, q, qkv, probs, dout, dp, `${s.batch}×${s.tokens}×${s.heads}×${s.headDim} log ${q.base}`);
    });
  }

  test('probabilities on the region boundaries (Δ = 1): the GPU decides each region as the twin', async () => {
    const ctx = await getGpu();
    const s: Shape = { batch: 1, tokens: 7, heads: 2, headDim: 3 }, { rows, dim } = sizes(s);
    const qkv = randomArray(rows * 3 * dim, 21, -1, 1), dout = randomArray(rows * dim, 22);
    for (const q of [{ bits: 4, delta: 1, base: 'sqrt2' }, { bits: 3, delta: 1, base: '2' }] as Quant[]) {
      const probs = Float32Array.from(attentionRef(qkv, s.batch, s.tokens, s.heads, s.headDim).probs);
      const top = logTopThreshold(q.base), last = logThresholds(q.bits, q.base)[2 ** q.bits - 1];
      [top, top - 1, last, last - 1, 0].forEach((b, k) => { probs[7 * k + 1] = bitsF32(b); });  // one per row, rows 0..4
      expect(new Set(regions(probs, q))).toEqual(new Set(['zero', 'top', 'inside']));
      await compare(ctx, s, q, qkv, probs, dout, undefined, `boundaries log ${q.base}`);
    }
  });

  test('guards', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const qkv = uploadTensor(ctx, new Float32Array(2 * 5 * 18), [10, 18]), probs = uploadTensor(ctx, new Float32Array(100), [2, 2, 5, 5]);
    const dout = uploadTensor(ctx, new Float32Array(60), [10, 6]), o = { batch: 2, heads: 2 };
    expect(() => attentionBackward(ctx, enc, qkv, probs, dout, { ...o, doutRule: 'ste' })).toThrow(UsageError);
    expect(() => attentionBackward(ctx, enc, qkv, probs, dout, { ...o, doutRule: 'clip' as DoutRule })).toThrow(UsageError);
    expect(() => attentionBackward(ctx, enc, qkv, probs, dout, { ...o, probsHat: dout })).toThrow(ShapeError);
    const delta = uploadTensor(ctx, Float32Array.of(0.5), [1]);
    expect(() => attentionBackward(ctx, enc, qkv, probs, dout, { ...o, doutRule: 'ste', probsQuant: { delta, bits: 11 } })).toThrow(UsageError);
  });
});

/** Every rule on one set of inputs: dS and dqkv of the GPU against the twin. */
async function compare(ctx: Awaited<ReturnType<typeof getGpu>>, s: Shape, q: Quant, qkv: Float32Array, probs: Float32Array,
                       dout: Float32Array, dp: Float32Array | undefined, tag: string) {
  const { rows, dim } = sizes(s), mapShape = [s.batch, s.heads, s.tokens, s.tokens];
  const probsHat = quantize(probs, q);
  for (const rule of ['pass', 'none', 'ste'] as const) {
    const r = attentionBackwardRef(qkv, probs, dout, s.batch, s.tokens, s.heads, s.headDim, undefined, dp, { probsHat, doutRule: rule, probsQuant: q });
    const got = await record(ctx, (enc) => attentionBackward(ctx, enc, uploadTensor(ctx, qkv, [rows, 3 * dim]), uploadTensor(ctx, probs, mapShape),
      uploadTensor(ctx, dout, [rows, dim]), {
        batch: s.batch, heads: s.heads, keepScoresGrad: true, dprobs: dp && uploadTensor(ctx, dp, mapShape),
        probsHat: uploadTensor(ctx, probsHat, mapShape), doutRule: rule,
        probsQuant: { delta: uploadTensor(ctx, Float32Array.of(q.delta), [1]), bits: q.bits, base: q.base },
      }));
    for (const [name, a, e] of [['dS', await readTensor(ctx, got.dscores!), r.dscores], ['dqkv', await readTensor(ctx, got.dqkv), r.dqkv]] as const) {
      allClose(a, e, GPU_TOL, `${tag} '${rule}' ${name}`);
      const d = worstDiff(a, e);
      worst.push(`${tag} '${rule}' ${name}: |diff| ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)} (GPU vs twin)`);
    }
  }
}
