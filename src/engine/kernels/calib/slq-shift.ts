/**
 * S = f32(f32(x − m) + eps) with a constant SLQ shift m given as a JavaScript number (f64), bit for bit
 * as the CPU computes it (shaders/calib/slq_shift.wgsl). Twin: the loop of quant/search-backend.ts cpuSearch.slqConst.
 */
import src from '../../../../shaders/calib/slq_shift.wgsl?raw';
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, numel, type GpuTensor } from '../../gpu/tensor.ts';

export const slqShiftKernel = new Kernel({
  name: 'slq_shift',
  code: src,
  bindings: [{ name: 'x', kind: 'read' }, { name: 's', kind: 'read_write' }],
  params: [['count', 'u32'], ['c_neg', 'u32'], ['c_exp', 'i32'], ['c_hi', 'u32'], ['c_lo', 'u32'], ['eps', 'f32']],
});

const WG = 256;

/** C = −m as sign, exponent and 53-bit mantissa (hi 21 bits, lo 32); |m| < 2^-1022 counts as 0. */
export function shiftWords(m: number): { c_neg: number; c_exp: number; c_hi: number; c_lo: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, -m);
  const hi = view.getUint32(0), lo = view.getUint32(4), biased = (hi >>> 20) & 0x7ff;
  if (biased === 0) return { c_neg: 0, c_exp: 0, c_hi: 0, c_lo: 0 };
  return { c_neg: hi >>> 31, c_exp: biased - 1023, c_hi: (hi & 0xfffff) | 0x100000, c_lo: lo };
}

/** Records and returns S, the shape of x (the caller releases it). eps is rounded to f32. */
export function slqShift(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, shift: number, eps: number): GpuTensor {
  if (!(Math.abs(shift) < 2 ** 127) || !Number.isFinite(eps)) throw new UsageError(`slq_shift: need |shift| < 2^127 and a finite eps (got ${shift}, ${eps}).`);
  const count = numel(x.shape), s = allocTensor(ctx, x.shape, 'slq_shift.s');
  slqShiftKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [x.buffer, s.buffer], params: { count, ...shiftWords(shift), eps }, workgroups: Math.ceil(count / WG),
  });
  return s;
}
