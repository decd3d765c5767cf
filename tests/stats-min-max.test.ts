// GPU min/max of whole tensors, per channel and per token against their CPU twins (tests/stats-cases.ts).
// Every case accumulates two batches, each recorded and submitted on its own as the studio does; results
// must match bit for bit (±0 included).
import { describe, expect, test } from 'vitest';
import { ShapeError } from '../src/engine/errors.ts';
import type { GpuContext } from '../src/engine/gpu/device.ts';
import { readTensor, releaseTensor, uploadTensor, type GpuTensor } from '../src/engine/gpu/tensor.ts';
import { axisMinMaxInit, channelMinMax, minMax, minMaxInit, readMinMax, tokenMinMax } from '../src/engine/kernels/index.ts';
import { channelMinMaxRef, minMaxRef, tokenMinMaxRef } from '../src/engine/reference/stats/min-max.ts';
import { getGpu, record } from './helpers/gpu.ts';
import { batchesOf, sameBits, STATS_CASES } from './stats-cases.ts';

/** Records init, then each batch in its own submit; returns the accumulator. */
async function accumulate<A>(ctx: GpuContext, xs: GpuTensor[], init: (e: GPUCommandEncoder) => A,
                             step: (e: GPUCommandEncoder, x: GpuTensor, acc: A) => void): Promise<A> {
  const acc = await record(ctx, init);
  for (const x of xs) await record(ctx, (e) => step(e, x, acc));
  return acc;
}

describe('min_max on the GPU', () => {
  for (const c of STATS_CASES) {
    test(`${c.name}`, async () => {
      const ctx = await getGpu();
      const data = batchesOf(c);
      const xs = data.map((d) => uploadTensor(ctx, d, [c.rows, c.cols]));
      const acc = await accumulate(ctx, xs, (e) => minMaxInit(ctx, e), (e, x, a) => minMax(ctx, e, x, a));
      const got = await readMinMax(ctx, acc), ref = minMaxRef(data);
      expect(sameBits(new Float32Array([got.min, got.max]), new Float32Array([ref.min, ref.max]))).toBeNull();
      expect(got.nans).toBe(ref.nans);

      const ch = await accumulate(ctx, xs, (e) => axisMinMaxInit(ctx, e, c.cols), (e, x, a) => channelMinMax(ctx, e, x, a));
      const chRef = channelMinMaxRef(data, c.cols);
      expect(sameBits(await readTensor(ctx, ch.min), chRef.min), 'channel min').toBeNull();
      expect(sameBits(await readTensor(ctx, ch.max), chRef.max), 'channel max').toBeNull();

      const tk = await accumulate(ctx, xs, (e) => axisMinMaxInit(ctx, e, c.tokens), (e, x, a) => tokenMinMax(ctx, e, x, c.tokens, a));
      const tkRef = tokenMinMaxRef(data, c.cols, c.tokens);
      expect(sameBits(await readTensor(ctx, tk.min), tkRef.min), 'token min').toBeNull();
      expect(sameBits(await readTensor(ctx, tk.max), tkRef.max), 'token max').toBeNull();
      for (const t of [...xs, acc, ch.min, ch.max, tk.min, tk.max]) releaseTensor(ctx, t);
    });
  }

  test('all-NaN and empty tensors leave +inf/-inf and count NaNs', async () => {
    const ctx = await getGpu();
    const nan = uploadTensor(ctx, new Float32Array(300).fill(NaN), [3, 100]);
    const empty = uploadTensor(ctx, new Float32Array(0), [0, 96]);
    const acc = await accumulate(ctx, [nan, empty], (e) => minMaxInit(ctx, e), (e, x, a) => minMax(ctx, e, x, a));
    expect(await readMinMax(ctx, acc)).toEqual({ min: Infinity, max: -Infinity, nans: 300 });
  });

  test('attention probabilities [B,H,N,N] per query token', async () => {
    const ctx = await getGpu();
    const [B, H, N] = [2, 3, 5];
    const p = Float32Array.from({ length: B * H * N * N }, (_, i) => Math.fround(Math.sin(i) * 0.5 + 0.5));
    const acc = await accumulate(ctx, [uploadTensor(ctx, p, [B, H, N, N])], (e) => axisMinMaxInit(ctx, e, N),
      (e, x, a) => tokenMinMax(ctx, e, x, N, a));
    const ref = tokenMinMaxRef([p], N, N);
    expect(sameBits(await readTensor(ctx, acc.min), ref.min)).toBeNull();
    expect(sameBits(await readTensor(ctx, acc.max), ref.max)).toBeNull();
  });

  test('guards throw ShapeError', async () => {
    const ctx = await getGpu();
    const enc = ctx.device.createCommandEncoder();
    const x = uploadTensor(ctx, new Float32Array(50 * 96), [50, 96]);
    const acc = axisMinMaxInit(ctx, enc, 95);
    expect(() => channelMinMax(ctx, enc, x, acc)).toThrow(ShapeError);
    expect(() => tokenMinMax(ctx, enc, x, 3, acc)).toThrow(/not a whole number of images of 3 tokens/);
    expect(() => tokenMinMax(ctx, enc, x, 25, acc)).toThrow(/acc.min must have shape \[25\]/);
    expect(() => minMax(ctx, enc, x, x)).toThrow(ShapeError);
  });
});
