// The key-axis option of the attention KL term (spec §5.5: softmax over the keys of each query row instead
// of over the heads): the twin's loss against a direct evaluation from explicit probabilities (both axes),
// its gradient against central differences (f64, h = 1e-4·max(|x|, 1), worst per-element relative error
// < 1e-5), the gradient fed through the attention backward twin, then the GPU kernel against the twin:
// gradient atol 1e-5, rtol 1e-5; loss within rtol 1e-5 plus the f32 cancellation of each softmax group's
// KL = Σ P_q·δ − (lse_q − lse_fp): with keys, softmax(A/4) of probability maps is nearly uniform, so the KL
// (~1e-6 per row) is the difference of terms ~1e-3, each rounded at ~2^-24·(1 + ln N) (the log-sum-exps are
// ~ln N); rows add with random signs: 4·(weight/B)·√rows·2^-24·(1 + ln N). The loss is for reporting; the
// gradient δ − Σ P_q·δ has no such cancellation.
import { afterAll, describe, expect, test } from 'vitest';
import { attentionKl, readAttentionKl } from '../src/engine/kernels/train/attention-kl.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { UsageError } from '../src/engine/errors.ts';
import { attentionRef } from '../src/engine/reference/attention.ts';
import { attentionBackwardRef } from '../src/engine/reference/train/attention-backward.ts';
import { attentionKlRef, type KlAxis } from '../src/engine/reference/train/attention-kl.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { dot, expectGradClose, numericGrad, softmaxRows, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));
const fd = (f: (x: Float64Array) => number, x: ArrayLike<number>, analytic: ArrayLike<number>, what: string) =>
  worst.push(`${what}: ${expectGradClose(numericGrad(f, x), analytic, what).worst.toExponential(2)} (finite differences)`);

/** Σ P_q(log P_q − log P_fp)·weight/B with P formed explicitly per softmax group (no log-softmax). */
function directKl(aq: ArrayLike<number>, afp: ArrayLike<number>, b: number, h: number, n: number, axis: KlAxis, t: number, weight: number) {
  const at = (bi: number, hi: number, i: number, j: number) => ((bi * h + hi) * n + i) * n + j;
  const groups: number[][] = [];
  for (let bi = 0; bi < b; bi++) for (let x = 0; x < (axis === 'keys' ? h : n); x++) for (let i = 0; i < n; i++) {
    groups.push(axis === 'keys' ? Array.from({ length: n }, (_, j) => at(bi, x, i, j)) : Array.from({ length: h }, (_, hi) => at(bi, hi, x, i)));
  }
  const softmax = (a: ArrayLike<number>, idx: number[]) => {
    const e = idx.map((k) => Math.exp(a[k] / t)), s = e.reduce((u, v) => u + v, 0);
    return e.map((v) => v / s);
  };
  let loss = 0;
  for (const idx of groups) {
    const pq = softmax(aq, idx), pf = softmax(afp, idx);
    pq.forEach((p, k) => { loss += p * (Math.log(p) - Math.log(pf[k])); });
  }
  return (weight * loss) / b;
}

describe('key-axis KL twin', () => {
  const s = { batch: 2, heads: 3, tokens: 5, headDim: 3 };
  const maps = s.batch * s.heads * s.tokens * s.tokens;
  const probs = (seed: number) => attentionRef(randomArray(s.batch * s.tokens * 3 * s.heads * s.headDim, seed, -2, 2),
    s.batch, s.tokens, s.heads, s.headDim, undefined, Float64Array).probs;

  test('loss equals the direct evaluation on both axes; 0 for equal maps; the axes differ', () => {
    const aq = randomArray(maps, 1, -3, 3), afp = randomArray(maps, 2, -3, 3);
    for (const axis of ['heads', 'keys'] as const) {
      const r = attentionKlRef(aq, afp, s.batch, s.heads, s.tokens, { axis, temperature: 1.5, weight: 2 });
      const direct = directKl(aq, afp, s.batch, s.heads, s.tokens, axis, 1.5, 2);
      expect(Math.abs(r.loss - direct)).toBeLessThanOrEqual(1e-12 * direct);
      expect(attentionKlRef(aq, aq, s.batch, s.heads, s.tokens, { axis }).loss).toBe(0);
    }
    expect(attentionKlRef(aq, afp, s.batch, s.heads, s.tokens, { axis: 'keys' }).loss)
      .not.toBeCloseTo(attentionKlRef(aq, afp, s.batch, s.heads, s.tokens).loss, 3);
  });

  const cases = [
    { name: 'attention maps, defaults (T = 4, weight 10)', aq: () => probs(3), afp: () => probs(4), options: {} },
    { name: 'logits in [-8, 8], T = 1.5, weight 2', aq: () => randomArray(maps, 5, -8, 8), afp: () => randomArray(maps, 6, -8, 8), options: { temperature: 1.5, weight: 2 } },
  ];
  for (const c of cases) {
    test(`key-axis KL gradient w.r.t. A_q: ${c.name}`, () => {
      const aq = c.aq(), afp = c.afp(), o = { ...c.options, axis: 'keys' as const };
      const r = attentionKlRef(aq, afp, s.batch, s.heads, s.tokens, o);
      fd((v) => attentionKlRef(v, afp, s.batch, s.heads, s.tokens, o).loss, aq, r.grad, `keys KL dA_q (${c.name})`);
    });
  }

  test('attention module loss Σ out·G + key-axis KL(P(qkv), A_fp) through the attention backward twin', () => {
    const qkv = randomArray(s.batch * s.tokens * 3 * s.heads * s.headDim, 7, -2, 2), g = randomArray(s.batch * s.tokens * s.heads * s.headDim, 8);
    const afp = probs(9), o = { axis: 'keys' as const };
    const fwd = (v: ArrayLike<number>) => attentionRef(v, s.batch, s.tokens, s.heads, s.headDim, undefined, Float64Array);
    const loss = (v: ArrayLike<number>) => { const f = fwd(v); return dot(f.out, g) + attentionKlRef(f.probs, afp, s.batch, s.heads, s.tokens, o).loss; };
    const { probs: p } = fwd(qkv);
    const kl = attentionKlRef(p, afp, s.batch, s.heads, s.tokens, o);
    const r = attentionBackwardRef(qkv, p, g, s.batch, s.tokens, s.heads, s.headDim, undefined, kl.grad);
    fd(loss, qkv, r.dqkv, 'attention + keys KL dqkv');
  });
});

describe('key-axis attention_kl on the GPU against the twin', () => {
  const shapes = [{ batch: 2, heads: 3, tokens: 5, wide: true }, { batch: 3, heads: 2, tokens: 17, wide: false }, { batch: 1, heads: 2, tokens: 197, wide: false }, { batch: 1, heads: 1, tokens: 1, wide: true }];
  for (const k of shapes) {
    test(`batch ${k.batch}, heads ${k.heads}, tokens ${k.tokens}, ${k.wide ? 'logits in [-8, 8]' : 'probabilities'}`, async () => {
      const ctx = await getGpu();
      const n = k.batch * k.heads * k.tokens * k.tokens, shape = [k.batch, k.heads, k.tokens, k.tokens];
      const maps = (seed: number) => (k.wide ? randomArray(n, seed, -8, 8) : Float32Array.from(softmaxRows(randomArray(n, seed, -3, 3), k.tokens)));
      const aq = maps(21), afp = maps(22);
      const r = attentionKlRef(aq, afp, k.batch, k.heads, k.tokens, { axis: 'keys' });
      const got = await record(ctx, (enc) => attentionKl(ctx, enc, uploadTensor(ctx, aq, shape), uploadTensor(ctx, afp, shape), { axis: 'keys' }));
      const tag = `${k.batch}×${k.heads}×${k.tokens}`, grad = await readTensor(ctx, got.grad);
      allClose(grad, r.grad, { atol: 1e-5, rtol: 1e-5 }, `keys attention_kl grad ${tag}`);
      const loss = await readAttentionKl(ctx, got.partials);
      const rows = k.batch * k.heads * k.tokens, cancel = 4 * (10 / k.batch) * Math.sqrt(rows) * 2 ** -24 * (1 + Math.log(k.tokens));
      expect(Math.abs(loss - r.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(r.loss) + cancel);
      worst.push(`keys attention_kl ${tag}: grad |diff| ${worstDiff(grad, r.grad).abs.toExponential(2)}, loss ${loss} vs ${r.loss} (GPU vs twin)`);
    });
  }

  test('guards: an unknown axis', async () => {
    const ctx = await getGpu();
    const a = uploadTensor(ctx, new Float32Array(4), [1, 1, 2, 2]);
    expect(() => attentionKl(ctx, ctx.device.createCommandEncoder(), a, a, { axis: 'rows' as 'keys' })).toThrow(UsageError);
  });
});

