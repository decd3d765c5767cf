/**
 * Quantization error of tensors against their fake-quantized copies (x̂ from kernels/quant), for
 * per-layer reports: mse = Σ(x − x̂)²/count and SQNR = 10·log10(Σx² / Σ(x − x̂)²) dB (Infinity when the
 * error is 0). f32 sums per workgroup of ≤ 4,096 values on the GPU, added in f64 here.
 * Twin: reference/calib/quant-error.ts.
 */
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { allocTensor, numel, releaseTensor } from '../../gpu/tensor.ts';
import { quantError, quantErrorGroups } from '../../kernels/calib/quant-error.ts';
import { sqnrDb } from '../../reference/calib/quant-error.ts';
import { tensorList, type Tensors } from './inputs.ts';

export interface QuantError { mse: number; sqnrDb: number; count: number }

export async function gpuQuantError(ctx: GpuContext, xs: Tensors, fakeQuantized: Tensors): Promise<QuantError> {
  const x = tensorList(xs), xq = tensorList(fakeQuantized);
  if (x.length !== xq.length) throw new ShapeError(`quant error: ${x.length} tensors but ${xq.length} fake-quantized ones.`);
  x.forEach((t, i) => {
    if (t.shape.join() !== xq[i].shape.join()) throw new ShapeError(`quant error: x̂ ${i} has shape [${xq[i].shape.join(', ')}] but x has [${t.shape.join(', ')}].`);
  });
  const groups = x.map((t) => quantErrorGroups(numel(t.shape))), all = groups.reduce((a, b) => a + b, 0);
  const partials = allocTensor(ctx, [all * 2], 'quant_error.partials');
  let count = 0, p: Float32Array;
  try {
    const encoder = ctx.device.createCommandEncoder({ label: 'quant_error' });
    let base = 0;
    x.forEach((t, i) => { base += quantError(ctx, encoder, t, xq[i], partials.buffer, base); count += numel(t.shape); });
    ctx.pool.submit(encoder);
    p = await ctx.pool.read(partials.buffer, all * 2);
  } finally { releaseTensor(ctx, partials); }
  let err = 0, sig = 0;
  for (let g = 0; g < all; g++) { err += p[2 * g]; sig += p[2 * g + 1]; }
  return { mse: count ? err / count : NaN, sqnrDb: sqnrDb(sig, err), count };
}
