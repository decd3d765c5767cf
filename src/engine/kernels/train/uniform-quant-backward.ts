/**
 * Gradient rules of ADFQ §5.5 for the uniform fake quantizer and PPOQ (shaders/train/uniform_quant_backward.wgsl):
 * dx and ∂L/∂Δ (per tensor, per token position for PPOQ, or per channel for q/k/v in the fused qkv) from
 * dy = ∂L/∂x̂, under a GradRule (gradRule(mode, role)). ∂L/∂Δ is reduced on the GPU: per-workgroup (per
 * channel: per row block) partials, then sum_partials.
 * Twin: reference/train/quant-backward.ts uniformQuantBackwardRef.
 */
import src from '../../../../shaders/train/uniform_quant_backward.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import type { GradRule } from '../../reference/train/quant-backward.ts';
import { checkBits } from '../quant/uniform-quant.ts';
import { sumPartials } from './sum-partials.ts';

export const uniformQuantBackwardKernel = new Kernel({
  name: 'uniform_quant_backward',
  code: src,
  libs: [exactDivision],
  bindings: [{ name: 'x', kind: 'read' }, { name: 'dy', kind: 'read' }, { name: 'delta', kind: 'read' }, { name: 'zero', kind: 'read' },
    { name: 'dx', kind: 'read_write' }, { name: 'partials', kind: 'read_write' }],
  params: [['count', 'u32'], ['cols', 'u32'], ['tokens', 'u32'], ['levels', 'u32'], ['per_token', 'u32'], ['ppoq', 'u32'],
    ['tau', 'f32'], ['x_grad', 'u32'], ['delta_rule', 'u32'], ['span', 'u32'], ['write_dx', 'u32']],
});

const WG = 256;
const TENSOR_SPAN = 4 * WG;  // elements per workgroup per tensor: four per thread
const CHANNEL_ROWS = 32;     // rows per workgroup per channel: a thread's sequential f32 sum stays short

export interface UniformQuantBackwardOptions {
  bits: number;
  granularity: 'tensor' | 'channel' | 'token';
  /**
   * Δ > 0 and z: [1] per tensor, [C] per channel (the last axis: q, k, v of the fused qkv), [tokens] per
   * token position (row r of [B·N, C] is token r % N).
   */
  delta: GpuTensor;
  zero: GpuTensor;
  tokens?: number;
  /** PPOQ: |x| > τ passes through (granularity 'token'). */
  tau?: number;
  rule: GradRule;
  /** Record dx (default true; it is all zeros under rule.x 'none'). */
  dx?: boolean;
  /** ∂L/∂Δ into this tensor (shape of delta) instead of a fresh one; `accumulate` adds to it. */
  ddelta?: GpuTensor;
  accumulate?: boolean;
}

/**
 * The shader's ownership (see its header): per tensor, WG threads over TENSOR_SPAN elements; per token one
 * row per workgroup; per channel a WG-column tile of CHANNEL_ROWS rows, one partial per (row block, column).
 */
function dispatchPlan(granularity: 'tensor' | 'channel' | 'token', count: number, cols: number) {
  if (granularity === 'channel') {
    const blocks = Math.ceil(count / cols / CHANNEL_ROWS);
    return { span: CHANNEL_ROWS, workgroups: blocks * Math.ceil(cols / WG), partials: blocks * cols };
  }
  const span = granularity === 'token' ? cols : TENSOR_SPAN, workgroups = Math.ceil(count / span);
  return { span, workgroups, partials: workgroups };
}

/** Records the backward of x̂ = uniform(x) (or PPOQ) for x, dy of one shape [..., C]. */
export function uniformQuantBackward(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, dy: GpuTensor,
                                     o: UniformQuantBackwardOptions): { dx: GpuTensor | null; ddelta: GpuTensor } {
  const name = 'uniform_quant_backward';
  const levels = checkBits(name, o.bits, 16);
  if (x.shape.length < 1 || numel(x.shape) < 1) throw new ShapeError(`${name}: x must not be empty.`);
  expectShape(name, 'dy', dy, x.shape);
  const count = numel(x.shape), cols = x.shape[x.shape.length - 1];
  const perToken = o.granularity === 'token', perChannel = o.granularity === 'channel';
  if (o.granularity !== 'tensor' && !perToken && !perChannel) {
    throw new UsageError(`${name}: granularity must be 'tensor', 'channel' or 'token', not ${String(o.granularity)}.`);
  }
  const tokens = perToken ? o.tokens ?? 0 : 1;
  if (!Number.isInteger(tokens) || tokens < 1) throw new UsageError(`${name}: tokens must be a positive integer.`);
  if (o.tau !== undefined && (!perToken || !(o.tau > 0) || !Number.isFinite(o.tau))) {
    throw new UsageError(`${name}: PPOQ needs granularity 'token' and a positive finite tau, not ${o.tau}.`);
  }
  const entries = perChannel ? cols : tokens;
  expectShape(name, 'delta', o.delta, [entries]);
  expectShape(name, 'zero', o.zero, [entries]);
  if (o.accumulate && !o.ddelta) throw new ShapeError(`${name}: accumulating needs an existing ddelta tensor.`);
  const ddelta = o.ddelta ?? allocTensor(ctx, [entries], `${name}.ddelta`);
  expectShape(name, 'ddelta', ddelta, [entries]);
  const plan = dispatchPlan(o.granularity, count, cols);
  const dx = o.dx === false ? null : allocTensor(ctx, x.shape, `${name}.dx`);
  const scratch = dx ? null : allocTensor(ctx, [1], `${name}.unused`);
  const partials = allocTensor(ctx, [plan.partials], `${name}.partials`);
  uniformQuantBackwardKernel.run(ctx, encoder, {
    entry: perChannel ? 'channels' : 'main',
    overrides: { WG },
    buffers: [x.buffer, dy.buffer, o.delta.buffer, o.zero.buffer, (dx ?? scratch)!.buffer, partials.buffer],
    params: {
      count, cols, tokens, levels, per_token: perToken ? 1 : 0, ppoq: o.tau === undefined ? 0 : 1, tau: o.tau ?? 0,
      x_grad: o.rule.x === 'ste' ? 1 : 0, delta_rule: o.rule.delta === 'lsq' ? 1 : 0, span: plan.span, write_dx: dx ? 1 : 0,
    },
    workgroups: plan.workgroups,
  });
  sumPartials(ctx, encoder, partials, { entries, out: ddelta, accumulate: o.accumulate });
  releaseTensor(ctx, partials);
  if (scratch) releaseTensor(ctx, scratch);
  return { dx, ddelta };
}
