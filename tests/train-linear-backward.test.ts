// MLP-branch backward (STYLE habit 7): the CPU twins of linear, GELU and softmax backward against central
// differences of the float64 CPU forward twins, then the GPU kernels against those twins.
// Finite differences: f64, h = 1e-4·max(|x|, 1), worst per-element relative error < 1e-5.
// GPU vs twin: atol 1e-5, rtol 1e-5 (inputs in [-1, 1]: short f32 dot products, erf within 4e-7).
import { afterAll, describe, expect, test } from 'vitest';
import { matmul } from '../src/engine/kernels/matmul.ts';
import { geluBackward, type GeluForm } from '../src/engine/kernels/train/gelu-backward.ts';
import { linearBackward } from '../src/engine/kernels/train/linear-backward.ts';
import { softmaxBackward } from '../src/engine/kernels/train/softmax-backward.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { ShapeError } from '../src/engine/errors.ts';
import { geluErf, geluTanh } from '../src/engine/reference/erf.ts';
import { matmulRef } from '../src/engine/reference/matmul.ts';
import { geluBackwardRef, geluErfGrad, geluTanhGrad } from '../src/engine/reference/train/gelu-backward.ts';
import { linearBackwardRef } from '../src/engine/reference/train/linear-backward.ts';
import { softmaxBackwardRef, softmaxRowsRef } from '../src/engine/reference/train/softmax-backward.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { dot, expectGradClose, numericGrad, worstDiff } from './helpers/finite-diff.ts';
import { getGpu, record } from './helpers/gpu.ts';

const GPU_TOL = { atol: 1e-5, rtol: 1e-5 };
const FORMS: GeluForm[] = ['gelu-erf', 'gelu-tanh'];
const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));

const fd = (f: (x: Float64Array) => number, x: ArrayLike<number>, analytic: ArrayLike<number>, what: string) =>
  worst.push(`${what}: ${expectGradClose(numericGrad(f, x), analytic, what).worst.toExponential(2)} (finite differences)`);
function gpuClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  allClose(actual, expected, GPU_TOL, what);
  const d = worstDiff(actual, expected);
  worst.push(`${what}: |diff| ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)} (GPU vs twin)`);
}

/** The MLP branch fc2(gelu(fc1(x))) in float64, its loss Σ y·G, and the backward twins' gradients. */
function mlp(m: number, k: number, hidden: number, n: number, form: GeluForm, seed: number) {
  const x = randomArray(m * k, seed), w1 = randomArray(k * hidden, seed + 1), b1 = randomArray(hidden, seed + 2);
  const w2 = randomArray(hidden * n, seed + 3), b2 = randomArray(n, seed + 4), g = randomArray(m * n, seed + 5);
  const f64 = (len: number) => new Float64Array(len);
  const loss = (xx = x as ArrayLike<number>, ww1 = w1 as ArrayLike<number>, bb1 = b1 as ArrayLike<number>,
                ww2 = w2 as ArrayLike<number>, bb2 = b2 as ArrayLike<number>) => {
    const h = matmulRef(xx, ww1, bb1, m, k, hidden, form, undefined, f64(m * hidden));
    return dot(matmulRef(h, ww2, bb2, m, hidden, n, 'none', undefined, f64(m * n)), g);
  };
  const pre = matmulRef(x, w1, b1, m, k, hidden, 'none', undefined, f64(m * hidden));
  const h = Float64Array.from(pre, form === 'gelu-erf' ? geluErf : geluTanh);
  const g2 = linearBackwardRef(g, h, w2, m, hidden, n);
  const dpre = geluBackwardRef(pre, g2.dx, form);
  const g1 = linearBackwardRef(dpre, x, w1, m, k, hidden);
  return { x, w1, b1, w2, b2, g, loss, pre, h, g1, g2, dpre };
}

describe('backward twins against finite differences', () => {
  test('linear: dX, dW, db of Σ (X·W + b)·G, rows 7, in 5, out 9', () => {
    const [m, k, n] = [7, 5, 9];
    const x = randomArray(m * k, 1), w = randomArray(k * n, 2), b = randomArray(n, 3), g = randomArray(m * n, 4);
    const y = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) =>
      dot(matmulRef(xx, ww, bb, m, k, n, 'none', undefined, new Float64Array(m * n)), g);
    const r = linearBackwardRef(g, x, w, m, k, n);
    fd((v) => y(v, w, b), x, r.dx, 'linear dX');
    fd((v) => y(x, v, b), w, r.dw, 'linear dW');
    fd((v) => y(x, w, v), b, r.db, 'linear db');
  });

  for (const [form, f, grad] of [['gelu-erf', geluErf, geluErfGrad], ['gelu-tanh', geluTanh, geluTanhGrad]] as const) {
    test(`${form}': the derivative of the epilogue's GELU on [-8, 8]`, () => {
      // Point by point (a summed loss would bury the tail's 1e-8 derivatives under its own rounding).
      const x = Array.from({ length: 161 }, (_, i) => -8 + i / 10 + 0.0123);
      const numeric = x.map((xi) => numericGrad((v) => f(v[0]), [xi])[0]);
      worst.push(`${form}' pointwise: ${expectGradClose(numeric, x.map(grad), `${form}'`).worst.toExponential(2)} (finite differences)`);
    });
  }

  for (const form of FORMS) {
    test(`MLP branch fc2(${form}(fc1 x)): every gradient, rows 7, in 5, hidden 9, out 3`, () => {
      const c = mlp(7, 5, 9, 3, form, 10);
      fd((v) => c.loss(v), c.x, c.g1.dx, `MLP ${form} dX`);
      fd((v) => c.loss(c.x, v), c.w1, c.g1.dw, `MLP ${form} dW1`);
      fd((v) => c.loss(c.x, c.w1, v), c.b1, c.g1.db, `MLP ${form} db1`);
      fd((v) => c.loss(c.x, c.w1, c.b1, v), c.w2, c.g2.dw, `MLP ${form} dW2`);
      fd((v) => c.loss(c.x, c.w1, c.b1, c.w2, v), c.b2, c.g2.db, `MLP ${form} db2`);
    });
  }

  test('softmax: dS of Σ softmax(S)·G per row, rows 3, cols 7, and rows sum to 0', () => {
    const [rows, cols] = [3, 7];
    const s = randomArray(rows * cols, 20, -3, 3), g = randomArray(rows * cols, 21);
    const ds = softmaxBackwardRef(softmaxRowsRef(s, rows, cols), g, rows, cols);
    fd((v) => dot(softmaxRowsRef(v, rows, cols), g), s, ds, 'softmax dS');
    for (let r = 0; r < rows; r++) expect(Math.abs(ds.slice(r * cols, (r + 1) * cols).reduce((a, v) => a + v, 0))).toBeLessThan(1e-15);
  });
});

describe('backward kernels on the GPU against their twins', () => {
  for (const [m, k, n] of [[7, 5, 9], [50, 37, 70], [1, 3, 1]]) {
    test(`linear_backward: dX, dW, db, rows ${m}, in ${k}, out ${n}`, async () => {
      const ctx = await getGpu();
      const x = randomArray(m * k, 31), w = randomArray(k * n, 32), dy = randomArray(m * n, 33);
      const r = linearBackwardRef(dy, x, w, m, k, n);
      const grads = await record(ctx, (enc) => linearBackward(ctx, enc, uploadTensor(ctx, dy, [m, n]),
        uploadTensor(ctx, x, [m, k]), uploadTensor(ctx, w, [k, n])));
      gpuClose(await readTensor(ctx, grads.dx!), r.dx, `linear_backward dX ${m}×${k}×${n}`);
      gpuClose(await readTensor(ctx, grads.dw!), r.dw, `linear_backward dW ${m}×${k}×${n}`);
      gpuClose(await readTensor(ctx, grads.db!), r.db, `linear_backward db ${m}×${k}×${n}`);
    });
  }

  test('linear_backward: only the asked gradients, and accumulate adds to them', async () => {
    const ctx = await getGpu();
    const [m, k, n] = [9, 6, 5];
    const x = randomArray(m * k, 41), w = randomArray(k * n, 42), dy = randomArray(m * n, 43);
    const r = linearBackwardRef(dy, x, w, m, k, n);
    const [tdy, tx, tw] = [uploadTensor(ctx, dy, [m, n]), uploadTensor(ctx, x, [m, k]), uploadTensor(ctx, w, [k, n])];
    const first = await record(ctx, (enc) => linearBackward(ctx, enc, tdy, tx, tw, { grads: ['dw', 'db'] }));
    expect(first.dx).toBeUndefined();
    const twice = await record(ctx, (enc) => linearBackward(ctx, enc, tdy, tx, tw, { grads: ['dw', 'db'], out: first, accumulate: true }));
    expect(twice.dw).toBe(first.dw);
    gpuClose(await readTensor(ctx, twice.dw!), r.dw.map((v) => 2 * v), 'linear_backward dW accumulated twice');
    gpuClose(await readTensor(ctx, twice.db!), r.db.map((v) => 2 * v), 'linear_backward db accumulated twice');
    expect(() => linearBackward(ctx, ctx.device.createCommandEncoder(), tdy, tx, tw, { accumulate: true })).toThrow(ShapeError);
    expect(() => linearBackward(ctx, ctx.device.createCommandEncoder(), tx, tx, tw)).toThrow(/dy must have shape \[M, N\]/);
  });

  for (const form of FORMS) {
    test(`gelu_backward ${form} on [-10, 10] and ±50, ±1e6`, async () => {
      const ctx = await getGpu();
      // 1001 points on [-10, 10] and four far outside (no inf or NaN from x³ or exp).
      const x = Float32Array.from([...Array.from({ length: 1001 }, (_, i) => -10 + i / 50), -1e6, -50, 50, 1e6]);
      const dy = randomArray(x.length, 50);
      const dx = await record(ctx, (enc) => geluBackward(ctx, enc, uploadTensor(ctx, x, [5, 201]), uploadTensor(ctx, dy, [5, 201]), form));
      expect(dx.shape).toEqual([5, 201]);
      gpuClose(await readTensor(ctx, dx), geluBackwardRef(x, dy, form), `gelu_backward ${form}`);
    });
  }

  test('softmax_backward: rows 30 of 197, and rows 7 of 5', async () => {
    const ctx = await getGpu();
    for (const [rows, cols] of [[30, 197], [7, 5]]) {
      const p = softmaxRowsRef(randomArray(rows * cols, 60, -4, 4), rows, cols), dp = randomArray(rows * cols, 61);
      const p32 = Float32Array.from(p);
      const ds = await record(ctx, (enc) => softmaxBackward(ctx, enc, uploadTensor(ctx, p32, [rows, cols]), uploadTensor(ctx, dp, [rows, cols])));
      gpuClose(await readTensor(ctx, ds), softmaxBackwardRef(p32, dp, rows, cols), `softmax_backward ${rows}×${cols}`);
    }
  });

  for (const form of FORMS) {
    test(`MLP branch backward chained on the GPU (${form}): matmul forward, linear, GELU, linear backward`, async () => {
      const ctx = await getGpu();
      const [m, k, hidden, n] = [7, 5, 9, 3];
      const c = mlp(m, k, hidden, n, form, 70);
      const up = (a: Float32Array, shape: number[]) => uploadTensor(ctx, a, shape);
      const out = await record(ctx, (enc) => {
        const [x, w1, b1, w2] = [up(c.x, [m, k]), up(c.w1, [k, hidden]), up(c.b1, [hidden]), up(c.w2, [hidden, n])];
        const pre = matmul(ctx, enc, x, w1, b1);
        const h = matmul(ctx, enc, x, w1, b1, { epilogue: form });
        const g2 = linearBackward(ctx, enc, up(c.g, [m, n]), h, w2);
        const dpre = geluBackward(ctx, enc, pre, g2.dx!, form);
        const g1 = linearBackward(ctx, enc, dpre, x, w1);
        return { g1, g2 };
      });
      for (const [name, t, e] of [['dX', out.g1.dx, c.g1.dx], ['dW1', out.g1.dw, c.g1.dw], ['db1', out.g1.db, c.g1.db],
        ['dW2', out.g2.dw, c.g2.dw], ['db2', out.g2.db, c.g2.db]] as const) {
        gpuClose(await readTensor(ctx, t!), e, `MLP chain ${form} ${name}`);
      }
    });
  }
});
