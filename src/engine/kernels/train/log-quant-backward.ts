/**
 * Gradient rules of ADFQ §5.5 for the log√2 / log2 quantizer and SLQ (shaders/train/log_quant_backward.wgsl):
 * dx and ∂L/∂Δ from dy = ∂L/∂x̂ under a GradRule; with a dynamic SLQ shift (m = min(x), a tensor) the
 * released code's gradient through x.min() too. Twin: reference/train/quant-backward.ts logQuantBackwardRef.
 */
import src from '../../../../shaders/train/log_quant_backward.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import logLevel from '../../../../shaders/common/log_level.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { logThresholds, type LogBase } from '../../reference/quant/log-quant.ts';
import { logTopThreshold, type GradRule } from '../../reference/train/quant-backward.ts';
import { checkBits } from '../quant/uniform-quant.ts';
import { sumPartials } from './sum-partials.ts';

export const logQuantBackwardKernel = new Kernel({
  name: 'log_quant_backward',
  code: src,
  libs: [exactDivision, logLevel],
  bindings: [{ name: 'x', kind: 'read' }, { name: 'dy', kind: 'read' }, { name: 'delta', kind: 'read' }, { name: 'shift', kind: 'read' },
    { name: 'thresholds', kind: 'read' }, { name: 'sums', kind: 'read' }, { name: 'dx', kind: 'read_write' }, { name: 'partials', kind: 'read_write' }],
  params: [['count', 'u32'], ['span', 'u32'], ['levels', 'u32'], ['base2', 'u32'], ['shift_mode', 'u32'], ['shift', 'f32'],
    ['eps', 'f32'], ['x_grad', 'u32'], ['delta_rule', 'u32'], ['top_bits', 'u32'], ['write_dx', 'u32']],
});

const WG = 256;
const SPAN = 4 * WG;
const MAX_BITS = 10;
const tables = new Map<string, { thresholds: Uint32Array; top: number }>();

function tableFor(bits: number, base: LogBase) {
  const key = `${bits}:${base}`;
  let t = tables.get(key);
  if (!t) tables.set(key, (t = { thresholds: logThresholds(bits, base), top: logTopThreshold(base) }));
  return t;
}

export interface LogQuantBackwardOptions {
  bits: number;
  /** Δ [1], as the forward's. */
  delta: GpuTensor;
  base?: LogBase;
  rule: GradRule;
  /** Record dx (default true). */
  dx?: boolean;
  /** ∂L/∂Δ into this [1] tensor instead of a fresh one; `accumulate` adds to it. */
  ddelta?: GpuTensor;
  accumulate?: boolean;
}

export interface SlqBackwardOptions extends LogQuantBackwardOptions {
  /** The forward's shift: a tensor whose element 0 is m (dynamic min), or a constant. */
  shift: GpuTensor | number;
  eps?: number;
  /** With a tensor shift (m = min(x)): pass ∂L/∂m to the minimal elements of x (default true; dx needed). */
  shiftGrad?: boolean;
}

function run(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, dy: GpuTensor, o: LogQuantBackwardOptions,
             slq: SlqBackwardOptions | null): { dx: GpuTensor | null; ddelta: GpuTensor } {
  const name = slq ? 'slq_quant_backward' : 'log_quant_backward';
  const levels = checkBits(name, o.bits, MAX_BITS), base = o.base ?? 'sqrt2';
  if (base !== 'sqrt2' && base !== '2') throw new UsageError(`${name}: base must be 'sqrt2' or '2', not ${String(base)}.`);
  if (x.shape.length < 1 || numel(x.shape) < 1) throw new ShapeError(`${name}: x must not be empty.`);
  expectShape(name, 'dy', dy, x.shape);
  expectShape(name, 'delta', o.delta, [1]);
  const shiftTensor = slq && typeof slq.shift !== 'number' ? slq.shift : null;
  if (shiftTensor && numel(shiftTensor.shape) < 1) throw new ShapeError(`${name}: the shift tensor is empty.`);
  if (slq && typeof slq.shift === 'number' && !Number.isFinite(slq.shift)) throw new UsageError(`${name}: shift must be finite.`);
  if (o.accumulate && !o.ddelta) throw new ShapeError(`${name}: accumulating needs an existing ddelta tensor.`);
  const ddelta = o.ddelta ?? allocTensor(ctx, [1], `${name}.ddelta`);
  expectShape(name, 'ddelta', ddelta, [1]);
  const shiftGrad = !!shiftTensor && (slq?.shiftGrad ?? true);
  if (shiftGrad && o.dx === false) throw new UsageError(`${name}: the shift's gradient goes into dx; do not turn dx off.`);
  const count = numel(x.shape), groups = Math.ceil(count / SPAN);
  const dx = o.dx === false ? null : allocTensor(ctx, x.shape, `${name}.dx`);
  const scratch = dx ? null : allocTensor(ctx, [1], `${name}.unused`);
  const partials = allocTensor(ctx, [3 * groups], `${name}.partials`);
  const table = tableFor(o.bits, base);
  const thresholds = ctx.pool.upload(table.thresholds, undefined, `${name}.thresholds`);
  const buffers = (sums: GPUBuffer) => [x.buffer, dy.buffer, o.delta.buffer, shiftTensor?.buffer ?? x.buffer, thresholds, sums,
    (dx ?? scratch)!.buffer, partials.buffer];
  const params = {
    count, span: SPAN, levels, base2: base === '2' ? 1 : 0, shift_mode: !slq ? 0 : shiftTensor ? 1 : 2,
    shift: typeof slq?.shift === 'number' ? slq.shift : 0, eps: slq?.eps ?? 1e-6,
    x_grad: o.rule.x === 'ste' ? 1 : 0, delta_rule: o.rule.delta === 'lsq' ? 1 : 0, top_bits: table.top, write_dx: dx ? 1 : 0,
  };
  logQuantBackwardKernel.run(ctx, encoder, { overrides: { WG }, buffers: buffers(x.buffer), params, workgroups: groups });
  sumPartials(ctx, encoder, partials, { count: groups, out: ddelta, accumulate: o.accumulate });
  if (shiftGrad) {
    const sums = sumPartials(ctx, encoder, partials, { base: groups, count: 2 * groups, entries: 2 });
    logQuantBackwardKernel.run(ctx, encoder, { entry: 'shift_grad', overrides: { WG }, buffers: buffers(sums.buffer), params, workgroups: Math.ceil(count / WG) });
    releaseTensor(ctx, sums);
  }
  ctx.pool.release(thresholds);
  releaseTensor(ctx, partials);
  if (scratch) releaseTensor(ctx, scratch);
  return { dx, ddelta };
}

/** Records the backward of the log√2 / log2 quantizer (e.g. post-softmax). */
export function logQuantBackward(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, dy: GpuTensor,
                                 o: LogQuantBackwardOptions): { dx: GpuTensor | null; ddelta: GpuTensor } {
  return run(ctx, encoder, x, dy, o, null);
}

/** Records the backward of SLQ x̂ = log√2((x − m) + eps) + m − eps (fc2's input). */
export function slqQuantBackward(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, dy: GpuTensor,
                                 o: SlqBackwardOptions): { dx: GpuTensor | null; ddelta: GpuTensor } {
  return run(ctx, encoder, x, dy, o, o);
}
