// GPU LayerNorm, attention, patch embedding, pooling head and add against their CPU twins (shared cases).
import { describe, expect, test } from 'vitest';
import { add, attention, layerNorm, patchEmbed, poolHead } from '../src/engine/kernels/index.ts';
import { DEFAULT_TILING, SOFTWARE_TILING } from '../src/engine/kernels/matmul.ts';
import { addRef } from '../src/engine/reference/add.ts';
import { attentionRef } from '../src/engine/reference/attention.ts';
import { layerNormRef } from '../src/engine/reference/layer-norm.ts';
import { patchEmbedRef } from '../src/engine/reference/patch-embed.ts';
import { poolHeadRef } from '../src/engine/reference/pool-head.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError } from '../src/engine/errors.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { getGpu, record } from './helpers/gpu.ts';
import { ATTENTION_CASES, LAYER_NORM_CASES, PATCH_EMBED_CASES, POOL_HEAD_CASES } from './helpers/kernel-cases.ts';

describe('layer_norm on the GPU', () => {
  for (const c of LAYER_NORM_CASES) for (const variant of ['workgroup', 'rows'] as const) {
    test(`[${c.rows}×${c.cols}] offset ${c.offset} eps ${c.eps}, ${variant}`, async () => {
      const ctx = await getGpu();
      const x = randomArray(c.rows * c.cols, 11, c.offset - 1, c.offset + 1);
      const g = randomArray(c.cols, 12, 0.5, 1.5), b = randomArray(c.cols, 13);
      const y = await record(ctx, (enc) => layerNorm(ctx, enc, uploadTensor(ctx, x, [c.rows, c.cols]),
        uploadTensor(ctx, g, [c.cols]), uploadTensor(ctx, b, [c.cols]), c.eps, { variant }));
      allClose(await readTensor(ctx, y), layerNormRef(x, g, b, c.rows, c.cols, c.eps), c.tol);
    });
  }
});

describe('attention on the GPU', () => {
  for (const c of ATTENTION_CASES) for (const variant of ['workgroup', 'rows'] as const) {
    test(`B=${c.batch} N=${c.tokens} heads=${c.heads} hd=${c.headDim}, ${variant}`, async () => {
      const ctx = await getGpu();
      const dim = c.heads * c.headDim;
      const qkv = randomArray(c.batch * c.tokens * 3 * dim, 21, -2, 2);
      const got = await record(ctx, (enc) => attention(ctx, enc, uploadTensor(ctx, qkv, [c.batch * c.tokens, 3 * dim]),
        { batch: c.batch, heads: c.heads, keepProbs: true, variant }));
      const ref = attentionRef(qkv, c.batch, c.tokens, c.heads, c.headDim);
      expect(got.probs!.shape).toEqual([c.batch, c.heads, c.tokens, c.tokens]);
      allClose(await readTensor(ctx, got.probs!), ref.probs, c.tol, 'probs');
      allClose(await readTensor(ctx, got.out), ref.out, c.tol, 'out');
    });
  }

  test('rejects a qkv width that is not 3·heads·hd', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    expect(() => attention(ctx, enc, uploadTensor(ctx, new Float32Array(20), [2, 10]), { batch: 1, heads: 2 })).toThrow(ShapeError);
    expect(() => attention(ctx, enc, uploadTensor(ctx, new Float32Array(36), [3, 12]), { batch: 2, heads: 2 })).toThrow(/batch 2/);
  });
});

describe('patch_embed on the GPU', () => {
  for (const c of PATCH_EMBED_CASES) for (const tiling of [DEFAULT_TILING, SOFTWARE_TILING]) {
    test(`B=${c.batch} ${c.channels}×${c.size}² P=${c.patch} dim=${c.dim} prefix=${c.prefix}, ${tiling.variant}`, async () => {
      const ctx = await getGpu();
      const tokens = c.prefix + (c.size / c.patch) ** 2;
      const kk = c.channels * c.patch * c.patch;
      const img = randomArray(c.batch * c.channels * c.size * c.size, 31);
      const w = randomArray(kk * c.dim, 32, -0.1, 0.1), b = randomArray(c.dim, 33);
      const pre = randomArray(c.prefix * c.dim, 34), pos = randomArray(tokens * c.dim, 35);
      const y = await record(ctx, (enc) => patchEmbed(ctx, enc, uploadTensor(ctx, img, [c.batch, c.channels, c.size, c.size]),
        uploadTensor(ctx, w, [kk, c.dim]), uploadTensor(ctx, b, [c.dim]), uploadTensor(ctx, pre, [c.prefix, c.dim]),
        uploadTensor(ctx, pos, [tokens, c.dim]), c.patch, { tiling }));
      expect(y.shape).toEqual([c.batch * tokens, c.dim]);
      const ref = patchEmbedRef(img, w, b, pre, pos, c.batch, c.channels, c.size, c.size, c.patch, c.dim);
      allClose(await readTensor(ctx, y), ref, c.tol);
    });
  }

  test('rejects an image that is not whole patches', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const t = (shape: number[]) => uploadTensor(ctx, new Float32Array(shape.reduce((a, b) => a * b)), shape);
    expect(() => patchEmbed(ctx, enc, t([1, 3, 20, 20]), t([48, 4]), t([4]), t([1, 4]), t([25, 4]), 4)).toThrow(/pos must have shape \[26/);
    expect(() => patchEmbed(ctx, enc, t([1, 3, 30, 30]), t([768, 4]), t([4]), t([1, 4]), t([2, 4]), 16)).toThrow(/whole number of 16×16 patches/);
  });
});

describe('pool_head on the GPU', () => {
  for (const c of POOL_HEAD_CASES) {
    test(`B=${c.batch} N=${c.tokens} dim=${c.dim} classes=${c.classes}${c.dist ? ' distilled' : ''}`, async () => {
      const ctx = await getGpu();
      const x = randomArray(c.batch * c.tokens * c.dim, 41, -2, 3);
      const g = randomArray(c.dim, 42, 0.5, 1.5), be = randomArray(c.dim, 43);
      const w = randomArray(c.dim * c.classes, 44, -0.1, 0.1), b = randomArray(c.classes, 45);
      const dist = c.dist ? { w: randomArray(c.dim * c.classes, 46, -0.1, 0.1), bias: randomArray(c.classes, 47) } : undefined;
      const eps = 1e-6;
      const y = await record(ctx, (enc) => poolHead(ctx, enc, uploadTensor(ctx, x, [c.batch * c.tokens, c.dim]),
        uploadTensor(ctx, g, [c.dim]), uploadTensor(ctx, be, [c.dim]), uploadTensor(ctx, w, [c.dim, c.classes]),
        uploadTensor(ctx, b, [c.classes]), {
          batch: c.batch, eps,
          dist: dist && { w: uploadTensor(ctx, dist.w, [c.dim, c.classes]), bias: uploadTensor(ctx, dist.bias, [c.classes]) },
        }));
      expect(y.shape).toEqual([c.batch, c.classes]);
      allClose(await readTensor(ctx, y), poolHeadRef(x, g, be, w, b, c.batch, c.tokens, c.dim, eps, dist), c.tol);
    });
  }
});

describe('add on the GPU', () => {
  for (const n of [1, 1000, 197 * 96]) {
    test(`${n} elements`, async () => {
      const ctx = await getGpu();
      const a = randomArray(n, 51), b = randomArray(n, 52);
      const y = await record(ctx, (enc) => add(ctx, enc, uploadTensor(ctx, a, [n]), uploadTensor(ctx, b, [n])));
      allClose(await readTensor(ctx, y), addRef(a, b), { atol: 0, rtol: 0 });
    });
  }
});
