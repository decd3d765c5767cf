// GPU matmul (with each epilogue) against its CPU twin, on the shared cases.
import { describe, expect, test } from 'vitest';
import { DEFAULT_TILING, matmul, SOFTWARE_TILING } from '../src/engine/kernels/matmul.ts';
import { matmulRef } from '../src/engine/reference/matmul.ts';
import { geluErf, geluTanh } from '../src/engine/reference/erf.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError } from '../src/engine/errors.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { getGpu, record } from './helpers/gpu.ts';
import { MATMUL_CASES } from './helpers/kernel-cases.ts';

describe('matmul on the GPU', () => {
  for (const c of MATMUL_CASES) for (const tiling of [DEFAULT_TILING, SOFTWARE_TILING]) {
    test(`[${c.m}×${c.k}]·[${c.k}×${c.n}] ${c.epilogue}, ${tiling.variant}`, async () => {
      const ctx = await getGpu();
      const x = randomArray(c.m * c.k, 1), w = randomArray(c.k * c.n, 2), b = randomArray(c.n, 3);
      const r = c.epilogue === 'residual' ? randomArray(c.m * c.n, 4) : undefined;
      const y = await record(ctx, (enc) => matmul(ctx, enc, uploadTensor(ctx, x, [c.m, c.k]), uploadTensor(ctx, w, [c.k, c.n]),
        uploadTensor(ctx, b, [c.n]), { epilogue: c.epilogue, residual: r && uploadTensor(ctx, r, [c.m, c.n]), tiling }));
      expect(y.shape).toEqual([c.m, c.n]);
      allClose(await readTensor(ctx, y), matmulRef(x, w, b, c.m, c.k, c.n, c.epilogue, r), c.tol);
    });
  }

  test('a smaller tiling (override values) gives the same result', async () => {
    const ctx = await getGpu();
    const [m, k, n] = [37, 70, 45];
    const x = randomArray(m * k, 5), w = randomArray(k * n, 6), b = randomArray(n, 7);
    const y = await record(ctx, (enc) => matmul(ctx, enc, uploadTensor(ctx, x, [m, k]), uploadTensor(ctx, w, [k, n]),
      uploadTensor(ctx, b, [n]), { tiling: { wgX: 8, wgY: 4, tileK: 8 } }));
    allClose(await readTensor(ctx, y), matmulRef(x, w, b, m, k, n), { atol: 1e-4, rtol: 1e-4 });
  });

  // Identity weights make Y = epilogue(X): a direct check of each GELU over [-10, 10], including the
  // erf saturation region and the tanh clamp. Tolerances: the float32 erf approximation is within
  // ~4e-7 of erf, times |x|/2.
  for (const [epilogue, fn, tol] of [['gelu-erf', geluErf, 2e-6], ['gelu-tanh', geluTanh, 2e-6]] as const) {
    test(`${epilogue} matches float64 within ${tol}`, async () => {
      const ctx = await getGpu();
      const n = 64, m = 32;
      const x = new Float32Array(m * n).map((_, i) => -10 + (20 * i) / (m * n - 1));
      const eye = new Float32Array(n * n).map((_, i) => (i % (n + 1) === 0 ? 1 : 0));
      const y = await record(ctx, (enc) => matmul(ctx, enc, uploadTensor(ctx, x, [m, n]), uploadTensor(ctx, eye, [n, n]),
        uploadTensor(ctx, new Float32Array(n), [n]), { epilogue }));
      allClose(await readTensor(ctx, y), Array.from(x, fn), { atol: tol, rtol: tol });
    });
  }

  test('shape guards throw ShapeError with a sentence', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const x = uploadTensor(ctx, new Float32Array(6), [2, 3]);
    const w = uploadTensor(ctx, new Float32Array(8), [4, 2]);
    const b = uploadTensor(ctx, new Float32Array(2), [2]);
    expect(() => matmul(ctx, enc, x, w, b)).toThrow(ShapeError);
    expect(() => matmul(ctx, enc, x, w, b)).toThrow(/w must have shape \[K, N\] with M=2, K=3 but has \[4, 2\]/);
    expect(() => matmul(ctx, enc, x, uploadTensor(ctx, new Float32Array(6), [3, 2]), b, { epilogue: 'residual' })).toThrow(/residual/);
  });
});
