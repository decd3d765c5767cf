/**
 * Uniform asymmetric fake quantization per tensor, channel or token (shaders/quant/uniform_quant.wgsl);
 * PPOQ (ppoq-quant.ts) runs the same shader. Codes are optional u32 outputs so tests and the export can
 * compare them exactly. Twin: reference/quant/uniform-quant.ts.
 */
import src from '../../../../shaders/quant/uniform_quant.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, type GpuTensor } from '../../gpu/tensor.ts';
import type { Granularity } from '../../reference/quant/uniform-quant.ts';

export type { Granularity };

export const uniformQuantKernel = new Kernel({
  name: 'uniform_quant',
  code: src,
  libs: [exactDivision],
  bindings: [{ name: 'x', kind: 'read' }, { name: 'delta', kind: 'read' }, { name: 'zero', kind: 'read' },
    { name: 'y', kind: 'read_write' }, { name: 'codes', kind: 'read_write' }, { name: 'outliers', kind: 'read_write' }],
  params: [['count', 'u32'], ['cols', 'u32'], ['tokens', 'u32'], ['levels', 'u32'], ['mode', 'u32'],
    ['ppoq', 'u32'], ['tau', 'f32'], ['write_codes', 'u32']],
});

export interface FakeQuantOutput {
  /** x̂, the shape of x. */
  y: GpuTensor;
  /** Integer codes (u32 words, shape of x) when asked for; read with readU32. */
  codes: GpuTensor | null;
}

export interface UniformQuantOptions {
  bits: number;
  granularity: Granularity;
  /** Δ > 0 and z (integers as f32): shape [1] per tensor, [cols] per channel, [tokens] per token. */
  delta: GpuTensor;
  zero: GpuTensor;
  /** Token count N of [B·N, C] activations (granularity 'token'): row r uses entry r % N. */
  tokens?: number;
  codes?: boolean;
  /** Forces the exact integer division for every element (tests; the default uses it near ties only). */
  exactDivision?: boolean;
}

const WG = 256;
const MODES: Record<Granularity, number> = { tensor: 0, channel: 1, token: 2 };

export function checkBits(kernel: string, bits: number, max: number): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > max) throw new UsageError(`${kernel}: bits must be an integer 1..${max}, not ${bits}.`);
  return 2 ** bits;
}

/** Internal: records one uniform_quant dispatch; PPOQ passes tau and an outlier counter. */
export function runUniformQuant(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: UniformQuantOptions,
                                ppoq: { tau: number; outliers: GpuTensor } | null): FakeQuantOutput {
  const name = ppoq ? 'ppoq_quant' : 'uniform_quant';
  const levels = checkBits(name, o.bits, 16);
  if (x.shape.length < 1) throw new ShapeError(`${name}: x must have at least one dimension.`);
  const count = numel(x.shape), cols = x.shape[x.shape.length - 1];
  const tokens = o.tokens ?? 1;
  if (o.granularity === 'token' && (!Number.isInteger(tokens) || tokens < 1)) throw new UsageError(`${name}: tokens must be a positive integer.`);
  const entries = o.granularity === 'tensor' ? 1 : o.granularity === 'channel' ? cols : tokens;
  expectShape(name, 'delta', o.delta, [entries]);
  expectShape(name, 'zero', o.zero, [entries]);
  const y = allocTensor(ctx, x.shape, `${name}.y`);
  const codes = o.codes ? allocTensor(ctx, x.shape, `${name}.codes`) : null;
  // Unused read_write bindings still need a buffer of their own (writable bindings may not alias).
  const dummies = [codes ? null : ctx.pool.acquire(16), ppoq ? null : ctx.pool.acquire(16)];
  uniformQuantKernel.run(ctx, encoder, {
    overrides: { WG, EXACT_DIV: o.exactDivision ? 1 : 0 },
    buffers: [x.buffer, o.delta.buffer, o.zero.buffer, y.buffer, codes?.buffer ?? dummies[0]!, ppoq?.outliers.buffer ?? dummies[1]!],
    params: { count, cols, tokens, levels, mode: MODES[o.granularity], ppoq: ppoq ? 1 : 0, tau: ppoq?.tau ?? 0, write_codes: codes ? 1 : 0 },
    workgroups: Math.ceil(count / WG),
  });
  for (const d of dummies) if (d) ctx.pool.release(d);
  return { y, codes };
}

/** Records x̂ = (clamp(round(x/Δ) + z, 0, L−1) − z)·Δ over x (any shape; cols = its last dimension). */
export function uniformQuant(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: UniformQuantOptions): FakeQuantOutput {
  return runUniformQuant(ctx, encoder, x, o, null);
}
