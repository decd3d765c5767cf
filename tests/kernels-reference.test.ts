// The CPU twins checked on their own: known values and invariants, so the GPU suites' oracle is sound.
import { describe, expect, test } from 'vitest';
import { erf, geluErf, geluTanh } from '../src/engine/reference/erf.ts';
import { matmulRef } from '../src/engine/reference/matmul.ts';
import { layerNormRef } from '../src/engine/reference/layer-norm.ts';
import { attentionRef } from '../src/engine/reference/attention.ts';
import { patchEmbedRef } from '../src/engine/reference/patch-embed.ts';
import { poolHeadRef } from '../src/engine/reference/pool-head.ts';
import { allClose, compareClose, randomArray } from './helpers/all-close.ts';
import { ATTENTION_CASES, LAYER_NORM_CASES, PATCH_EMBED_CASES } from './helpers/kernel-cases.ts';

describe('CPU twins', () => {
  test('erf matches tabulated values to 1e-14', () => {
    const table: [number, number][] = [[0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [4, 0.9999999845827421], [-1, -0.8427007929497149]];
    allClose(table.map(([x]) => erf(x)), table.map(([, v]) => v), { atol: 1e-14, rtol: 0 });
    expect(erf(10)).toBe(1);
  });

  test('GELU variants: known values, and tanh within 1e-3 of erf', () => {
    expect(geluErf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(geluErf(-3)).toBeCloseTo(-3 * 0.0013498980316301, 14);  // -3·Φ(-3)
    for (let x = -6; x <= 6; x += 0.01) expect(Math.abs(geluTanh(x) - geluErf(x))).toBeLessThan(1e-3);
  });

  test('allClose reports the worst element', () => {
    const r = compareClose([1, 2, 3.5, 4], [1, 2, 3, 4.1], { atol: 0.01, rtol: 0 });
    expect(r.ok).toBe(false);
    expect(r.failures).toBe(2);
    expect(r.worstIndex).toBe(2);
    expect(r.message).toMatch(/worst at \[2\]: actual 3.5, expected 3/);
    expect(compareClose([NaN], [0], { atol: 1, rtol: 1 }).ok).toBe(false);
  });

  test('matmul: identity weight and residual', () => {
    const x = randomArray(6, 1);
    const y = matmulRef(x, new Float32Array([1, 0, 0, 1]), new Float32Array([1, 2]), 3, 2, 2, 'residual', new Float32Array(6).fill(1));
    allClose(y, Array.from(x, (v, i) => v + (i % 2 ? 2 : 1) + 1), { atol: 1e-6, rtol: 0 });
  });

  for (const c of LAYER_NORM_CASES) {
    test(`layerNorm [${c.rows}×${c.cols}] offset ${c.offset}: zero mean, unit variance`, () => {
      const x = randomArray(c.rows * c.cols, 11, c.offset - 1, c.offset + 1);
      const y = layerNormRef(x, new Float32Array(c.cols).fill(1), new Float32Array(c.cols), c.rows, c.cols, 0);
      const row = Array.from(y.subarray(0, c.cols));
      const mean = row.reduce((a, b) => a + b) / c.cols;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(row.reduce((a, b) => a + (b - mean) ** 2, 0) / c.cols).toBeCloseTo(1, 4);
    });
  }

  for (const c of ATTENTION_CASES) {
    test(`attention B=${c.batch} N=${c.tokens}: rows of P sum to 1, out is a convex mix of v`, () => {
      const dim = c.heads * c.headDim;
      const qkv = randomArray(c.batch * c.tokens * 3 * dim, 21, -2, 2);
      const { out, probs } = attentionRef(qkv, c.batch, c.tokens, c.heads, c.headDim);
      for (let r = 0; r < c.batch * c.heads * c.tokens; r++) {
        expect(probs.subarray(r * c.tokens, (r + 1) * c.tokens).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
      }
      for (const v of out) expect(Math.abs(v)).toBeLessThanOrEqual(2);
      if (c.tokens === 1) for (let d = 0; d < dim; d++) expect(out[d]).toBe(qkv[2 * dim + d]);
    });
  }

  for (const c of PATCH_EMBED_CASES.slice(0, 2)) {
    test(`patchEmbed ${c.size}² P=${c.patch} prefix=${c.prefix}: equals im2col · W`, () => {
      const { batch: B, channels: C, size: S, patch: P, dim, prefix } = c;
      const grid = S / P, tokens = prefix + grid * grid, K = C * P * P;
      const img = randomArray(B * C * S * S, 31), w = randomArray(K * dim, 32), b = randomArray(dim, 33);
      const pre = randomArray(prefix * dim, 34), pos = randomArray(tokens * dim, 35);
      const y = patchEmbedRef(img, w, b, pre, pos, B, C, S, S, P, dim);
      const cols = new Float32Array(B * grid * grid * K);  // im2col, row = (b, py, px), col = (c, ky, kx)
      for (let r = 0; r < B * grid * grid; r++) {
        const bb = Math.floor(r / (grid * grid)), p = r % (grid * grid);
        for (let k = 0; k < K; k++) {
          const ch = Math.floor(k / (P * P)), ky = Math.floor((k % (P * P)) / P), kx = k % P;
          cols[r * K + k] = img[((bb * C + ch) * S + Math.floor(p / grid) * P + ky) * S + (p % grid) * P + kx];
        }
      }
      const conv = matmulRef(cols, w, b, B * grid * grid, K, dim);
      for (let bb = 0; bb < B; bb++) {
        for (let t = 0; t < tokens; t++) {
          const src = t < prefix ? pre.subarray(t * dim, (t + 1) * dim) : conv.subarray((bb * grid * grid + t - prefix) * dim, (bb * grid * grid + t - prefix + 1) * dim);
          const expected = Array.from(src, (v, d) => v + pos[t * dim + d]);
          allClose(y.subarray((bb * tokens + t) * dim, (bb * tokens + t + 1) * dim), expected, { atol: 1e-5, rtol: 1e-6 });
        }
      }
    });
  }

  test('poolHead: a distilled model averages the two heads', () => {
    const dim = 8, classes = 3, tokens = 4;
    const x = randomArray(2 * tokens * dim, 1), g = new Float32Array(dim).fill(1), be = new Float32Array(dim);
    const w = randomArray(dim * classes, 2), b = randomArray(classes, 3), w2 = randomArray(dim * classes, 4), b2 = randomArray(classes, 5);
    const both = poolHeadRef(x, g, be, w, b, 2, tokens, dim, 1e-6, { w: w2, bias: b2 });
    const cls = poolHeadRef(x, g, be, w, b, 2, tokens, dim, 1e-6);
    const xd = new Float32Array(x); // shift rows so token 1 sits where token 0 was
    for (let bb = 0; bb < 2; bb++) xd.copyWithin(bb * tokens * dim, (bb * tokens + 1) * dim, (bb * tokens + 2) * dim);
    const dist = poolHeadRef(xd, g, be, w2, b2, 2, tokens, dim, 1e-6);
    allClose(both, Array.from(cls, (v, i) => (v + dist[i]) / 2), { atol: 1e-6, rtol: 1e-6 });
  });
});
