/**
 * Helpers shared by the statistics wrappers: grid-stride workgroup counts, recorded accumulator
 * initialisation and u32 read-back. Accumulators are small pooled buffers the caller owns (release
 * them with releaseTensor) and initialises once before the first batch.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { type GpuTensor, numel } from '../../gpu/tensor.ts';

/**
 * Workgroups for a grid-stride kernel over `count` values: about 16 values per thread, at most 512
 * workgroups (enough to fill any GPU; more would only add per-workgroup merges into the accumulators).
 */
export function gridGroups(count: number, workgroupSize: number): number {
  return Math.min(512, Math.max(1, Math.ceil(count / (workgroupSize * 16))));
}

/**
 * Records `dst[0..values.length) = values` on the encoder, so it is ordered with the dispatches around
 * it (a queue.writeBuffer would land before the whole submit). The values travel as raw 32-bit words.
 */
export function recordFill(ctx: GpuContext, encoder: GPUCommandEncoder, dst: GPUBuffer,
                           values: Float32Array | Uint32Array): void {
  const src = ctx.pool.upload(values, undefined, 'stats.fill');
  encoder.copyBufferToBuffer(src, 0, dst, 0, values.byteLength);
  ctx.pool.release(src);  // reusable only after the submit of this encoder (pool rule)
}

/** Reads a tensor whose words are u32 counts. */
export async function readU32(ctx: GpuContext, t: GpuTensor, count = numel(t.shape)): Promise<Uint32Array> {
  const f = await ctx.pool.read(t.buffer, count);
  return new Uint32Array(f.buffer, f.byteOffset, count);
}

/** Number of values in a tensor of any shape, as a whole-tensor kernel sees it. */
export const valueCount = (t: GpuTensor): number => numel(t.shape);
