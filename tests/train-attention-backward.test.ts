// Attention-branch backward (STYLE habit 7): the attention backward twin (softmax backward included) and the
// head-axis KL term of ADFQ §5.4 against central differences of the float64 CPU forward twins, then the GPU
// kernels against those twins. Finite differences: f64, h = 1e-4·max(|x|, 1), worst per-element relative
// error < 1e-5. GPU vs twin: atol 1e-5, rtol 1e-5 on gradients; the KL loss value within rtol 1e-5.
import { afterAll, describe, expect, test } from 'vitest';
import { attentionBackward } from '../src/engine/kernels/train/attention-backward.ts';
import { attentionKl, readAttentionKl } from '../src/engine/kernels/train/attention-kl.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError } from '../src/engine/errors.ts';
import { attentionRef } from '../src/engine/reference/attention.ts';
import { attentionBackwardRef } from '../src/engine/reference/train/attention-backward.ts';
import { attentionKlRef } from '../src/engine/reference/train/attention-kl.ts';
import { softmaxBackwardRef } from '../src/engine/reference/train/softmax-backward.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { dot, expectGradClose, numericGrad, softmaxRows, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const GPU_TOL = { atol: 1e-5, rtol: 1e-5 };
const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));

const fd = (f: (x: Float64Array) => number, x: ArrayLike<number>, analytic: ArrayLike<number>, what: string) =>
  worst.push(`${what}: ${expectGradClose(numericGrad(f, x), analytic, what).worst.toExponential(2)} (finite differences)`);
function gpuClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  allClose(actual, expected, GPU_TOL, what);
  const d = worstDiff(actual, expected);
  worst.push(`${what}: |diff| ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)} (GPU vs twin)`);
}

interface Shape { batch: number; tokens: number; heads: number; headDim: number }
const sizes = (s: Shape) => ({ rows: s.batch * s.tokens, dim: s.heads * s.headDim, maps: s.batch * s.heads * s.tokens * s.tokens });
const forward64 = (qkv: ArrayLike<number>, s: Shape, scale?: number) =>
  attentionRef(qkv, s.batch, s.tokens, s.heads, s.headDim, scale, Float64Array);

describe('attention backward twins against finite differences', () => {
  const s: Shape = { batch: 2, tokens: 5, heads: 2, headDim: 3 };
  const { rows, dim, maps } = sizes(s);
  // q, k, v in [-2, 2]: logits up to ~7, a sharp softmax.
  const qkv = randomArray(rows * 3 * dim, 1, -2, 2), g = randomArray(rows * dim, 2), gp = randomArray(maps, 3);

  for (const scale of [undefined, 0.7]) {
    test(`dqkv of Σ out·G, batch 2, tokens 5, heads 2, head_dim 3, scale ${scale ?? '1/√hd'}`, () => {
      const { probs } = forward64(qkv, s, scale);
      const r = attentionBackwardRef(qkv, probs, g, s.batch, s.tokens, s.heads, s.headDim, scale);
      fd((v) => dot(forward64(v, s, scale).out, g), qkv, r.dqkv, `attention dqkv (scale ${scale ?? 'default'})`);
    });
  }

  test('dqkv of Σ out·G + Σ P·Gp (an extra gradient on the probabilities), and dS is the softmax backward', () => {
    const { probs } = forward64(qkv, s);
    const r = attentionBackwardRef(qkv, probs, g, s.batch, s.tokens, s.heads, s.headDim, undefined, gp);
    fd((v) => { const f = forward64(v, s); return dot(f.out, g) + dot(f.probs, gp); }, qkv, r.dqkv, 'attention dqkv with dP extra');
    // dS alone: with dO = 0 it is the softmax backward of the extra gradient.
    const onlyExtra = attentionBackwardRef(qkv, probs, new Float64Array(rows * dim), s.batch, s.tokens, s.heads, s.headDim, undefined, gp);
    allClose(onlyExtra.dscores, softmaxBackwardRef(probs, gp, maps / s.tokens, s.tokens), { atol: 1e-15, rtol: 0 });
  });

  test('head-axis KL: value 0 with gradient 0 for equal maps, ≥ 0 otherwise', () => {
    const a = forward64(qkv, s).probs;
    const same = attentionKlRef(a, a, s.batch, s.heads, s.tokens);
    expect(same.loss).toBe(0);
    expect(same.grad.every((v) => v === 0)).toBe(true);
    expect(attentionKlRef(a, randomArray(maps, 4, 0, 1), s.batch, s.heads, s.tokens).loss).toBeGreaterThan(0);
  });

  const klCases = [
    // Attention probabilities as in ASMO (A/4 ∈ [0, 0.25]: nearly uniform over heads), and wide logits.
    { name: 'attention maps', aq: () => forward64(qkv, s).probs, afp: () => forward64(randomArray(qkv.length, 5, -2, 2), s).probs, heads: 2, options: {} },
    { name: 'logits in [-8, 8], 3 heads, T = 1.5, weight 2', aq: () => randomArray(2 * 3 * 25, 6, -8, 8), afp: () => randomArray(2 * 3 * 25, 7, -8, 8), heads: 3, options: { temperature: 1.5, weight: 2 } },
  ];
  for (const c of klCases) {
    test(`head-axis KL gradient w.r.t. A_q: ${c.name}`, () => {
      const aq = c.aq(), afp = c.afp();
      const r = attentionKlRef(aq, afp, 2, c.heads, 5, c.options);
      fd((v) => attentionKlRef(v, afp, 2, c.heads, 5, c.options).loss, aq, r.grad, `KL dA_q (${c.name})`);
    });
  }

  test('attention module loss Σ out·G + KL(P(qkv), A_fp): KL gradient fed to the attention backward', () => {
    const afp = forward64(randomArray(qkv.length, 8, -2, 2), s).probs;
    const loss = (v: ArrayLike<number>) => {
      const f = forward64(v, s);
      return dot(f.out, g) + attentionKlRef(f.probs, afp, s.batch, s.heads, s.tokens).loss;
    };
    const { probs } = forward64(qkv, s);
    const kl = attentionKlRef(probs, afp, s.batch, s.heads, s.tokens);
    const r = attentionBackwardRef(qkv, probs, g, s.batch, s.tokens, s.heads, s.headDim, undefined, kl.grad);
    fd(loss, qkv, r.dqkv, 'attention + KL dqkv');
  });
});

describe('attention backward kernels on the GPU against their twins', () => {
  const shapes: Shape[] = [{ batch: 2, tokens: 5, heads: 2, headDim: 3 }, { batch: 2, tokens: 17, heads: 3, headDim: 8 }, { batch: 1, tokens: 1, heads: 1, headDim: 4 }];
  for (const s of shapes) {
    for (const extra of [false, true]) {
      test(`attention_backward: batch ${s.batch}, tokens ${s.tokens}, heads ${s.heads}, head_dim ${s.headDim}${extra ? ', with dP extra' : ''}`, async () => {
        const ctx = await getGpu();
        const { rows, dim, maps } = sizes(s);
        const qkv = randomArray(rows * 3 * dim, 11, -2, 2), dout = randomArray(rows * dim, 12);
        const dp = extra ? randomArray(maps, 13) : undefined;
        const { probs } = attentionRef(qkv, s.batch, s.tokens, s.heads, s.headDim);
        const r = attentionBackwardRef(qkv, probs, dout, s.batch, s.tokens, s.heads, s.headDim, undefined, dp);
        const got = await record(ctx, (enc) => attentionBackward(ctx, enc, uploadTensor(ctx, qkv, [rows, 3 * dim]),
          uploadTensor(ctx, probs, [s.batch, s.heads, s.tokens, s.tokens]), uploadTensor(ctx, dout, [rows, dim]),
          { batch: s.batch, heads: s.heads, keepScoresGrad: true, dprobs: dp && uploadTensor(ctx, dp, [s.batch, s.heads, s.tokens, s.tokens]) }));
        const tag = `${s.batch}×${s.tokens}×${s.heads}×${s.headDim}${extra ? ' +dP' : ''}`;
        gpuClose(await readTensor(ctx, got.dscores!), r.dscores, `attention_backward dS ${tag}`);
        gpuClose(await readTensor(ctx, got.dqkv), r.dqkv, `attention_backward dqkv ${tag}`);
      });
    }
  }

  test('attention_backward shape guards', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const qkv = uploadTensor(ctx, new Float32Array(2 * 5 * 18), [10, 18]);
    const probs = uploadTensor(ctx, new Float32Array(2 * 2 * 25), [2, 2, 5, 5]);
    expect(() => attentionBackward(ctx, enc, qkv, probs, uploadTensor(ctx, new Float32Array(60), [10, 6]), { batch: 3, heads: 2 })).toThrow(ShapeError);
    expect(() => attentionBackward(ctx, enc, qkv, probs, uploadTensor(ctx, new Float32Array(50), [10, 5]), { batch: 2, heads: 2 }))
      .toThrow(/dout must have shape \[10, 6\]/);
  });

  const klShapes = [{ batch: 2, heads: 3, tokens: 5, wide: true }, { batch: 3, heads: 6, tokens: 17, wide: false }, { batch: 1, heads: 1, tokens: 2, wide: true }];
  for (const k of klShapes) {
    test(`attention_kl: batch ${k.batch}, heads ${k.heads}, tokens ${k.tokens}, ${k.wide ? 'logits in [-8, 8]' : 'probabilities'}`, async () => {
      const ctx = await getGpu();
      const n = k.batch * k.heads * k.tokens * k.tokens;
      // Probabilities: each key row of a random softmax (as attention maps are); wide: raw logits.
      const maps = (seed: number) => k.wide ? randomArray(n, seed, -8, 8)
        : Float32Array.from(softmaxRows(randomArray(n, seed, -3, 3), k.tokens));
      const aq = maps(21), afp = maps(22);
      const r = attentionKlRef(aq, afp, k.batch, k.heads, k.tokens);
      const shape = [k.batch, k.heads, k.tokens, k.tokens];
      const got = await record(ctx, (enc) => attentionKl(ctx, enc, uploadTensor(ctx, aq, shape), uploadTensor(ctx, afp, shape)));
      const tag = `${k.batch}×${k.heads}×${k.tokens}`;
      gpuClose(await readTensor(ctx, got.grad), r.grad, `attention_kl grad ${tag}`);
      const loss = await readAttentionKl(ctx, got.partials);
      expect(Math.abs(loss - r.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(r.loss) + 1e-9);
      worst.push(`attention_kl loss ${tag}: ${loss} vs ${r.loss}, rel ${r.loss ? (Math.abs(loss - r.loss) / r.loss).toExponential(2) : '-'} (GPU vs twin)`);
    });
  }
});

