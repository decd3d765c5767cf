/**
 * The activation quantizers of params.ts on the GPU: their Δ/z arrays are uploaded once (owned here,
 * released by dispose) and each `apply` records one fake-quant dispatch returning a new tensor.
 */
import type { GpuContext } from '../gpu/device.ts';
import { releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import { logQuant, ppoqQuant, slqQuant, uniformQuant } from '../kernels/quant/index.ts';
import type { ActQuant } from './params.ts';

export class GpuQuantParams {
  private readonly owned: GpuTensor[] = [];
  constructor(private readonly ctx: GpuContext) {}

  /** Owned by the store from the start: a failing pool.guard() around the caller never releases it (dispose() does). */
  upload(values: ArrayLike<number>, label: string, shape: readonly number[] = [values.length]): GpuTensor {
    const t = this.ctx.pool.unguarded(() => uploadTensor(this.ctx, Float32Array.from(values), shape, label));
    this.owned.push(t);
    return t;
  }

  dispose(): void {
    for (const t of this.owned.splice(0)) releaseTensor(this.ctx, t);
  }
}

/** One activation site: records x̂ of x ([rows, cols]; PPOQ's row r is token r % tokens). */
export type GpuActQuantizer = (enc: GPUCommandEncoder, x: GpuTensor) => GpuTensor;

export function gpuActQuantizer(ctx: GpuContext, store: GpuQuantParams, q: ActQuant, bits: number, tokens: number,
                                label: string): GpuActQuantizer {
  switch (q.kind) {
    case 'uniform': {
      const delta = store.upload([q.delta], `${label}.delta`), zero = store.upload([q.zero], `${label}.zero`);
      return (enc, x) => uniformQuant(ctx, enc, x, { bits, granularity: 'tensor', delta, zero }).y;
    }
    case 'ppoq': {
      const delta = store.upload(q.delta, `${label}.delta`), zero = store.upload(q.zero, `${label}.zero`);
      return (enc, x) => {
        const r = ppoqQuant(ctx, enc, x, { bits, tau: q.tau, delta, zero, tokens });
        releaseTensor(ctx, r.outliers);  // counts are for reports; inference does not read them
        return r.y;
      };
    }
    case 'log': {
      const delta = store.upload([q.delta], `${label}.delta`);
      return (enc, x) => logQuant(ctx, enc, x, { bits, delta, base: q.base }).y;
    }
    case 'slq': {
      const delta = store.upload([q.delta], `${label}.delta`);
      return (enc, x) => slqQuant(ctx, enc, x, { bits, delta, base: q.base, shift: q.shift }).y;
    }
  }
}

/** Uniform per channel over the last dimension (the fused q|k|v columns). */
export function gpuChannelQuantizer(ctx: GpuContext, store: GpuQuantParams, p: { delta: Float32Array; zero: Float32Array },
                                    bits: number, label: string): GpuActQuantizer {
  const delta = store.upload(p.delta, `${label}.delta`), zero = store.upload(p.zero, `${label}.zero`);
  return (enc, x) => uniformQuant(ctx, enc, x, { bits, granularity: 'channel', delta, zero }).y;
}
