/**
 * Sums of squared fake-quantization errors of candidate quantizers per segment on the GPU: the driver of
 * kernels/calib/segment-mse.ts. One read of the data per 4 candidates, all in one submit; per-workgroup
 * f32 partial sums (≤ 2,048 values each) come back and are added in f64 here.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { allocTensor, numel, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { mseChunks, segmentMse, MSE_LANES } from '../../kernels/calib/segment-mse.ts';
import { logThresholds } from '../../reference/quant/log-quant.ts';
import { tauBits } from './inputs.ts';

export interface CandidateSet {
  segments: number;
  inner: number;
  mode: 'uniform' | 'log';
  bits: number;
  ncand: number;
  /** [segments × ncand] Δ and z (z unused in log mode). A candidate the GPU cannot score (Δ = 0 or
   * not finite, z not finite, log Δ ≤ 0) is evaluated with Δ = 1, z = 0 and must be ignored. */
  delta: ArrayLike<number>;
  zero?: ArrayLike<number>;
  /** PPOQ: |x| > τ counts as 0. */
  tau?: number;
}

const thresholdCache = new Map<number, Uint32Array>();
function thresholdsFor(bits: number): Uint32Array {
  let t = thresholdCache.get(bits);
  if (!t) thresholdCache.set(bits, (t = logThresholds(bits)));
  return t;
}

/** Whether the GPU kernel evaluates this candidate exactly as the CPU twin. */
export function gpuScorable(mode: 'uniform' | 'log', delta: number, zero = 0): boolean {
  return mode === 'log' ? delta > 0 && Number.isFinite(delta) : delta !== 0 && Number.isFinite(delta) && Number.isFinite(zero);
}

/** Σ f32(x − x̂)² per segment and candidate, [segments × ncand] f64 (for the scorable candidates). */
export async function gpuCandidateSse(ctx: GpuContext, list: readonly GpuTensor[], c: CandidateSet): Promise<Float64Array> {
  const { segments, ncand } = c;
  const chunks = list.map((x) => mseChunks(numel(x.shape), segments, c.inner));
  const perBatch = chunks.reduce((s, k) => s + k * segments, 0), batches = Math.ceil(ncand / MSE_LANES);
  const partials = allocTensor(ctx, [perBatch * batches * 4], 'segment_mse.partials');
  let thresholds: GPUBuffer | null = null, p: Float32Array;
  try {
    thresholds = c.mode === 'log' ? ctx.pool.upload(thresholdsFor(c.bits), undefined, 'segment_mse.thresholds') : null;
    ctx.pool.guard(() => recordBatches(ctx, list, c, chunks, perBatch, batches, partials, thresholds));
    p = await ctx.pool.read(partials.buffer, perBatch * batches * 4);
  } finally {
    if (thresholds) ctx.pool.release(thresholds);
    releaseTensor(ctx, partials);
  }
  const sse = new Float64Array(segments * ncand);
  for (let b = 0; b < batches; b++) {
    for (let j = 0; j < perBatch; j++) {
      const s = j % segments, at = 4 * (b * perBatch + j);
      for (let lane = 0; lane < MSE_LANES && b * MSE_LANES + lane < ncand; lane++) sse[s * ncand + b * MSE_LANES + lane] += p[at + lane];
    }
  }
  return sse;
}

/** Records every batch of 4 candidates into one encoder and submits it. */
function recordBatches(ctx: GpuContext, list: readonly GpuTensor[], c: CandidateSet, chunks: number[], perBatch: number, batches: number,
                       partials: GpuTensor, thresholds: GPUBuffer | null): void {
  const { segments, ncand } = c, levels = 2 ** c.bits;
  const encoder = ctx.device.createCommandEncoder({ label: 'segment_mse' });
  for (let b = 0; b < batches; b++) {
    const q = new Float32Array(segments * 8);
    for (let s = 0; s < segments; s++) {
      for (let lane = 0; lane < MSE_LANES; lane++) {
        const k = b * MSE_LANES + lane, d = k < ncand ? c.delta[s * ncand + k] : 1, z = k < ncand && c.zero ? c.zero[s * ncand + k] : 0;
        const ok = gpuScorable(c.mode, d, z);
        q[8 * s + lane] = ok ? d : 1;
        q[8 * s + 4 + lane] = ok ? z : 0;
      }
    }
    const qparams = ctx.pool.upload(q, undefined, 'segment_mse.qparams');
    let base = b * perBatch;
    list.forEach((x, i) => {
      segmentMse(ctx, encoder, x, {
        segments, inner: c.inner, mode: c.mode, levels, ncand: Math.min(MSE_LANES, ncand - b * MSE_LANES),
        qparams, thresholds: thresholds ?? qparams, tauBits: tauBits(c.tau), partials: partials.buffer, base,
      });
      base += chunks[i] * segments;
    });
    ctx.pool.release(qparams);  // reusable after this encoder's submit (pool rule)
  }
  ctx.pool.submit(encoder);
}
