// slice_cols against its CPU twin: exact copies of q, k and v windows out of a fused qkv matrix.
import { describe, expect, it } from 'vitest';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { sliceCols } from '../src/engine/kernels/index.ts';
import { sliceColsRef } from '../src/engine/reference/slice-cols.ts';
import { getGpu, record } from './helpers/gpu.ts';

describe('slice_cols on the GPU', () => {
  it.each([[1, 3 * 96], [50, 3 * 192], [197, 3 * 64]])('rows %i, width %i: q, k, v windows equal the twin exactly', async (rows, width) => {
    const ctx = await getGpu();
    const x = Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i * 1.37) * 10);
    const xt = uploadTensor(ctx, x, [rows, width]);
    const c = width / 3;
    for (const offset of [0, c, 2 * c]) {
      const y = await record(ctx, (enc) => sliceCols(ctx, enc, xt, offset, c));
      expect(Array.from(await readTensor(ctx, y))).toEqual(Array.from(sliceColsRef(x, rows, width, offset, c)));
    }
  });

  it('rejects a window outside the tensor', async () => {
    const ctx = await getGpu();
    const xt = uploadTensor(ctx, new Float32Array(12), [3, 4]);
    expect(() => sliceCols(ctx, ctx.device.createCommandEncoder(), xt, 2, 3)).toThrow(/do not fit width 4/);
  });
});
