/**
 * Per-segment squared fake-quantization error of up to 4 candidates (shaders/calib/segment_mse.wgsl):
 * the scores of the percentile-MSE searches. calibration/gpu/candidate-mse.ts drives it; twin:
 * calibration/fake-quant-f32.ts meanSquaredError with uniformFq / logSqrt2Fq.
 */
import src from '../../../../shaders/calib/segment_mse.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import logLevel from '../../../../shaders/common/log_level.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { numel, type GpuTensor } from '../../gpu/tensor.ts';

export const segmentMseKernel = new Kernel({
  name: 'segment_mse',
  code: src,
  libs: [exactDivision, logLevel],
  bindings: [{ name: 'x', kind: 'read' }, { name: 'qparams', kind: 'read' }, { name: 'thresholds', kind: 'read' },
    { name: 'partials', kind: 'read_write' }],
  params: [['outer', 'u32'], ['segments', 'u32'], ['inner', 'u32'], ['chunk', 'u32'], ['chunks', 'u32'],
    ['levels', 'u32'], ['mode', 'u32'], ['ncand', 'u32'], ['tau_bits', 'i32'], ['base', 'u32'], ['opaque', 'u32']],
});

/** Candidates per dispatch (one vec4 lane each). */
export const MSE_LANES = 4;
const WG = 256;
/** Values per workgroup and segment: f32 partial sums over at most this many squared errors. */
export const MSE_CHUNK = WG * 8;

export interface SegmentMseOptions {
  segments: number;
  inner: number;
  mode: 'uniform' | 'log';
  levels: number;
  /** Candidates in this dispatch, 1..4 lanes of qparams. */
  ncand: number;
  /** [segments·2] vec4: Δ of the 4 lanes, then z (uniform; ignored in log mode). */
  qparams: GPUBuffer;
  /** logThresholds(bits) (log mode); any buffer in uniform mode. */
  thresholds: GPUBuffer;
  tauBits: number;
  partials: GPUBuffer;
  /** First vec4 of partials this tensor writes. */
  base: number;
}

/** Number of chunks (partial sums per segment) a tensor of `count` values produces. */
export function mseChunks(count: number, segments: number, inner: number): number {
  if (count % (segments * inner) !== 0) throw new ShapeError(`segment_mse: ${count} values are not a whole number of [segments ${segments}, inner ${inner}] blocks.`);
  return Math.max(1, Math.ceil(count / segments / MSE_CHUNK));
}

/** Records partials[base + c·segments + s] = 4 sums of squared errors of chunk c of segment s of x. */
export function segmentMse(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, o: SegmentMseOptions): void {
  const count = numel(x.shape), chunks = mseChunks(count, o.segments, o.inner);
  segmentMseKernel.run(ctx, encoder, {
    overrides: { WG },
    buffers: [x.buffer, o.qparams, o.thresholds, o.partials],
    params: {
      outer: count / (o.segments * o.inner), segments: o.segments, inner: o.inner, chunk: MSE_CHUNK, chunks,
      levels: o.levels, mode: o.mode === 'log' ? 1 : 0, ncand: o.ncand, tau_bits: o.tauBits, base: o.base, opaque: 0,
    },
    workgroups: o.segments * chunks,
  });
}
