/**
 * log√2 / log2 fake quantization and SLQ (shaders/quant/log_quant.wgsl). Codes are compared against
 * host-computed decision thresholds (reference/quant/log-quant.ts logThresholds), so the GPU never
 * evaluates log2. Twin: reference/quant/log-quant.ts.
 */
import src from '../../../../shaders/quant/log_quant.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import logLevel from '../../../../shaders/common/log_level.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, type GpuTensor } from '../../gpu/tensor.ts';
import { logThresholds, type LogBase } from '../../reference/quant/log-quant.ts';
import { checkBits, type FakeQuantOutput } from './uniform-quant.ts';

export const logQuantKernel = new Kernel({
  name: 'log_quant',
  code: src,
  libs: [exactDivision, logLevel],
  bindings: [{ name: 'x', kind: 'read' }, { name: 'delta', kind: 'read' }, { name: 'shift', kind: 'read' },
    { name: 'thresholds', kind: 'read' }, { name: 'y', kind: 'read_write' }, { name: 'codes', kind: 'read_write' }],
  params: [['count', 'u32'], ['levels', 'u32'], ['base2', 'u32'], ['shift_mode', 'u32'], ['shift', 'f32'],
    ['eps', 'f32'], ['write_codes', 'u32']],
});

export interface LogQuantOptions {
  bits: number;
  /** Δ > 0, the largest level: shape [1] (a GPU buffer, so a learned Δ needs no read-back). */
  delta: GpuTensor;
  /** 'sqrt2' (the reference's default) or '2' (the paper's wording). */
  base?: LogBase;
  codes?: boolean;
}

export interface SlqOptions extends LogQuantOptions {
  /** The shift m: a tensor whose element 0 is m (e.g. a min_max accumulator: dynamic min), or a constant. */
  shift: GpuTensor | number;
  /** Added after the shift, float32(1e-6) by default. */
  eps?: number;
}

const WG = 256;
const MAX_BITS = 10;
const thresholdCache = new Map<string, Uint32Array>();

function thresholdsFor(bits: number, base: LogBase): Uint32Array {
  const key = `${bits}:${base}`;
  let t = thresholdCache.get(key);
  if (!t) thresholdCache.set(key, (t = logThresholds(bits, base)));
  return t;
}

function run(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: LogQuantOptions, slq: SlqOptions | null): FakeQuantOutput {
  const name = slq ? 'slq_quant' : 'log_quant';
  const levels = checkBits(name, o.bits, MAX_BITS), base = o.base ?? 'sqrt2';
  if (base !== 'sqrt2' && base !== '2') throw new UsageError(`${name}: base must be 'sqrt2' or '2', not ${String(base)}.`);
  expectShape(name, 'delta', o.delta, [1]);
  const shiftTensor = slq && typeof slq.shift !== 'number' ? slq.shift : null;
  if (shiftTensor && numel(shiftTensor.shape) < 1) throw new ShapeError(`${name}: the shift tensor is empty.`);
  if (slq && typeof slq.shift === 'number' && !Number.isFinite(slq.shift)) throw new UsageError(`${name}: shift must be finite.`);
  const count = numel(x.shape);
  const y = allocTensor(ctx, x.shape, `${name}.y`);
  const codes = o.codes ? allocTensor(ctx, x.shape, `${name}.codes`) : null;
  const dummy = codes ? null : ctx.pool.acquire(16);
  const thresholds = ctx.pool.upload(thresholdsFor(o.bits, base), undefined, `${name}.thresholds`);
  logQuantKernel.run(ctx, encoder, {
    overrides: { WG },
    buffers: [x.buffer, o.delta.buffer, shiftTensor?.buffer ?? x.buffer, thresholds, y.buffer, codes?.buffer ?? dummy!],
    params: {
      count, levels, base2: base === '2' ? 1 : 0, shift_mode: !slq ? 0 : shiftTensor ? 1 : 2,
      shift: typeof slq?.shift === 'number' ? slq.shift : 0, eps: slq?.eps ?? 1e-6, write_codes: codes ? 1 : 0,
    },
    workgroups: Math.ceil(count / WG),
  });
  ctx.pool.release(thresholds);  // reused only after this encoder's submit (pool rule)
  if (dummy) ctx.pool.release(dummy);
  return { y, codes };
}

/** Records the log quantizer over x (any shape; non-negative values, others take the zero code). */
export function logQuant(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: LogQuantOptions): FakeQuantOutput {
  return run(ctx, encoder, x, o, null);
}

/** Records SLQ: S = (x − m) + eps, Ŝ = log quantizer(S), x̂ = (Ŝ + m) − eps. */
export function slqQuant(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: SlqOptions): FakeQuantOutput {
  return run(ctx, encoder, x, o, o);
}
