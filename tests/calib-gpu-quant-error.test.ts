// gpuQuantError against its CPU twin (reference/calib/quant-error.ts) on x̂ from the GPU fake quantizers,
// over several tensors: MSE and SQNR within 1e-5 relative, the count exact, Infinity dB without error.
import { describe, expect, test } from 'vitest';
import { gpuQuantError } from '../src/engine/calibration/gpu/index.ts';
import { ShapeError } from '../src/engine/errors.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { uniformQuant } from '../src/engine/kernels/index.ts';
import { quantErrorRef } from '../src/engine/reference/calib/quant-error.ts';
import { getGpu, record } from './helpers/gpu.ts';
import { chunks, relDiff, release, synthetic, upload } from './calib-gpu-cases.ts';

describe('quantization error on the GPU = quantErrorRef', () => {
  for (const bits of [4, 8]) {
    test(`uniform fake quant of t3 data in chunks 3/2/1 × 197×45, ${bits} bit`, async () => {
      const ctx = await getGpu();
      const data = synthetic('t3', 6 * 197 * 45, 9 + bits), parts = chunks(data, 197 * 45, [3, 2, 1]);
      const xs = upload(ctx, parts, [197, 45]);
      const delta = uploadTensor(ctx, Float32Array.of(bits === 4 ? 0.4 : 0.03), [1]), zero = uploadTensor(ctx, Float32Array.of(2 ** (bits - 1)), [1]);
      const xq = await record(ctx, (enc) => xs.map((x) => uniformQuant(ctx, enc, x, { bits, granularity: 'tensor', delta, zero }).y));
      const host = await Promise.all(xq.map((t) => readTensor(ctx, t)));
      const inUse = ctx.pool.bytesInUse;
      const got = await gpuQuantError(ctx, xs, xq), want = quantErrorRef(parts, host);
      expect(got.count).toBe(want.count);
      expect(ctx.pool.bytesInUse).toBe(inUse);
      expect(relDiff(got.mse, want.mse)).toBeLessThan(1e-5);
      expect(relDiff(got.sqnrDb, want.sqnrDb)).toBeLessThan(1e-5);
      release(ctx, [...xs, ...xq, delta, zero]);
    });
  }

  test('no error gives Infinity dB; shapes must match', async () => {
    const ctx = await getGpu();
    const x = uploadTensor(ctx, synthetic('laplace', 1001, 1), [7, 143]);
    expect(await gpuQuantError(ctx, x, x)).toEqual({ mse: 0, sqnrDb: Infinity, count: 1001 });
    const y = uploadTensor(ctx, new Float32Array(1001), [1001]);
    await expect(gpuQuantError(ctx, x, y)).rejects.toThrow(ShapeError);
    await expect(gpuQuantError(ctx, [x], [])).rejects.toThrow(ShapeError);
    release(ctx, [x, y]);
  });
});
