/**
 * CPU twin of calibration/gpu/quant-error.ts (shaders/calib/quant_error.wgsl): the quantization error of
 * values against their fake-quantized copy, sums in f64 over f32 squares.
 */
import { ShapeError } from '../../errors.ts';

const f32 = Math.fround;

/** 10·log10(signal / error) in dB: Infinity when the error is 0 (NaN when both are). */
export function sqnrDb(signal: number, error: number): number {
  if (error === 0) return signal === 0 ? NaN : Infinity;
  return 10 * Math.log10(signal / error);
}

export function quantErrorRef(batches: readonly Float32Array[], fakeQuantized: readonly Float32Array[]): { mse: number; sqnrDb: number; count: number } {
  if (batches.length !== fakeQuantized.length) throw new ShapeError('quant error: tensor counts differ.');
  let err = 0, sig = 0, count = 0;
  batches.forEach((x, b) => {
    const xq = fakeQuantized[b];
    if (xq.length !== x.length) throw new ShapeError(`quant error: batch ${b} has ${x.length} values but ${xq.length} fake-quantized ones.`);
    for (let i = 0; i < x.length; i++) {
      const e = f32(x[i] - xq[i]);
      err += f32(e * e);
      sig += f32(x[i] * x[i]);
    }
    count += x.length;
  });
  return { mse: count ? err / count : NaN, sqnrDb: sqnrDb(sig, err), count };
}
