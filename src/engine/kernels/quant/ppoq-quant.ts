/**
 * PPOQ (spec §3) on the uniform_quant shader: per token position Δ[n], z[n]; |x| > τ passes through in
 * FP32 (code of 0), and a per-token outlier count [tokens] u32 comes back for reporting.
 * Twin: reference/quant/uniform-quant.ts ppoqQuantRef.
 */
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { allocTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { runUniformQuant, type FakeQuantOutput } from './uniform-quant.ts';

export interface PpoqOptions {
  bits: number;
  /** Outlier threshold τ > 0 (|x| > τ, strict; compared in f32). */
  tau: number;
  /** Δ[n], z[n] over token positions: [tokens]. */
  delta: GpuTensor;
  zero: GpuTensor;
  tokens: number;
  codes?: boolean;
  exactDivision?: boolean;
}

export interface PpoqOutput extends FakeQuantOutput {
  /** Outliers per token position, [tokens] u32 (zeroed here, then counted by this dispatch). */
  outliers: GpuTensor;
}

/** Records PPOQ fake quantization of [B·N, C] activations (row r is token r % tokens). */
export function ppoqQuant(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: PpoqOptions): PpoqOutput {
  if (!(o.tau > 0) || !Number.isFinite(o.tau)) throw new UsageError(`ppoq_quant: tau must be a positive number, not ${o.tau}.`);
  if (!Number.isInteger(o.tokens) || o.tokens < 1) throw new UsageError(`ppoq_quant: tokens must be a positive integer.`);
  const outliers = allocTensor(ctx, [o.tokens], 'ppoq_quant.outliers');
  encoder.clearBuffer(outliers.buffer, 0, o.tokens * 4);
  const r = runUniformQuant(ctx, encoder, x, { ...o, granularity: 'token' }, { tau: o.tau, outliers });
  return { ...r, outliers };
}
