/**
 * The deterministic second pass of the train kernels' reductions (shaders/train/sum_partials.wgsl): adds a
 * block of per-workgroup partial sums into `entries` results on the GPU, so a gradient or loss never needs
 * a read-back. readPartialSum adds them on the host instead (tests, one-off reports).
 */
import src from '../../../../shaders/train/sum_partials.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, numel, readTensor, type GpuTensor } from '../../gpu/tensor.ts';

export const sumPartialsKernel = new Kernel({
  name: 'sum_partials',
  code: src,
  bindings: [{ name: 'partials', kind: 'read' }, { name: 'out', kind: 'read_write' }],
  params: [['base', 'u32'], ['count', 'u32'], ['entries', 'u32'], ['offset', 'u32'], ['accumulate', 'u32']],
});

const WG = 256;

export interface SumPartialsOptions {
  /** Results; partial t belongs to entry t % entries (default 1). */
  entries?: number;
  /** The block partials[base, base + count) (default: the whole tensor). */
  base?: number;
  count?: number;
  /** Write into out[offset + j] of this tensor (e.g. a loss history) instead of a fresh [entries] one. */
  out?: GpuTensor;
  offset?: number;
  /** Add to out instead of overwriting it. */
  accumulate?: boolean;
}

/** Records out[offset + j] (+)= Σ_t partials[base + j + entries·t]; returns out. */
export function sumPartials(ctx: GpuContext, encoder: GPUCommandEncoder, partials: GpuTensor, o: SumPartialsOptions = {}): GpuTensor {
  const entries = o.entries ?? 1, base = o.base ?? 0, count = o.count ?? numel(partials.shape) - base, offset = o.offset ?? 0;
  if (!(Number.isInteger(entries) && entries >= 1)) throw new ShapeError(`sum_partials: entries must be a positive integer, not ${entries}.`);
  if (!(base >= 0 && count >= 0 && base + count <= numel(partials.shape))) {
    throw new ShapeError(`sum_partials: the block [${base}, ${base + count}) lies outside the ${numel(partials.shape)} partials.`);
  }
  if (o.accumulate && !o.out) throw new ShapeError('sum_partials: accumulating needs an existing out tensor.');
  const out = o.out ?? allocTensor(ctx, [entries], 'sum_partials.out');
  if (offset + entries > numel(out.shape)) throw new ShapeError(`sum_partials: out holds ${numel(out.shape)} values, not offset ${offset} + ${entries}.`);
  sumPartialsKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [partials.buffer, out.buffer],
    params: { base, count, entries, offset, accumulate: o.accumulate ? 1 : 0 }, workgroups: entries,
  });
  return out;
}

/** Σ of all partials, added in float64 on the host (after the submit). */
export async function readPartialSum(ctx: GpuContext, partials: GpuTensor): Promise<number> {
  return (await readTensor(ctx, partials)).reduce((a, v) => a + v, 0);
}
