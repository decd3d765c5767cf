/**
 * The one program class under every kernel wrapper. A wrapper declares its shader's bindings (inputs,
 * then outputs, then `params` last, the order shaders/README.md fixes) and its `Params` fields; `run`
 * packs the uniform, builds the bind group and records one dispatch on the caller's encoder, so a whole
 * forward pass can go into one command buffer and one submit.
 *
 * Pooled buffers are larger than asked (size buckets), so shaders read sizes from Params, never from
 * arrayLength().
 */
import { InternalError } from '../errors.ts';
import type { GpuContext } from './device.ts';
import { UNIFORM_USAGE } from './buffer-pool.ts';

export type BindingKind = 'read' | 'read_write' | 'uniform';
export interface BindingSpec { name: string; kind: BindingKind }
export type ParamType = 'u32' | 'i32' | 'f32';

export interface KernelSpec {
  /** The shader file's base name: shaders/vit/<name>.wgsl. */
  name: string;
  code: string;
  /**
   * WGSL function libraries (shaders/common/*.wgsl, imported with `?raw`) this shader calls, prepended to
   * `code` in this order when the shader module is created. The kernel file is valid WGSL only together
   * with them; this list is the one place that says which it needs (shaders/README.md).
   */
  libs?: readonly string[];
  /** Storage bindings in order, then the uniform `params` (added automatically when absent). */
  bindings: readonly BindingSpec[];
  /** `Params` struct fields, in declaration order; all 4-byte scalars. */
  params: readonly (readonly [string, ParamType])[];
}

export interface RunOptions {
  entry?: string;
  overrides?: Record<string, number>;
  /** One buffer per storage binding, in binding order (params excluded). */
  buffers: GPUBuffer[];
  params: Record<string, number>;
  /** Total workgroups; folded into x/y/z when above maxComputeWorkgroupsPerDimension. */
  workgroups: number;
}

/**
 * Splits a linear workgroup count over x, y, z. Shaders rebuild the linear id as
 * `wid.x + nwg.x * (wid.y + nwg.y * wid.z)` and return when it is >= their real count.
 */
export function foldWorkgroups(count: number, maxPerDim: number): [number, number, number] {
  if (count <= maxPerDim) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / maxPerDim);
  if (y <= maxPerDim) return [Math.ceil(count / y), y, 1];
  const z = Math.ceil(count / (maxPerDim * maxPerDim));
  if (z > maxPerDim) throw new InternalError(`Cannot dispatch ${count} workgroups.`);
  return [maxPerDim, Math.ceil(count / (maxPerDim * z)), z];
}

export class Kernel {
  readonly bindings: readonly BindingSpec[];
  /** The shader module's source: the libs, in order, then the kernel's own code. */
  readonly code: string;

  constructor(readonly spec: KernelSpec) {
    const b = spec.bindings;
    this.bindings = b.length && b[b.length - 1].kind === 'uniform' ? b : [...b, { name: 'params', kind: 'uniform' }];
    this.code = [...(spec.libs ?? []), spec.code].join('\n');
  }

  get name(): string { return this.spec.name; }

  /** Little-endian 4-byte fields, padded to 16 bytes (uniform buffer size granularity). */
  packParams(values: Record<string, number>): ArrayBuffer {
    const fields = this.spec.params;
    const data = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
    const view = new DataView(data);
    fields.forEach(([name, type], i) => {
      const v = values[name];
      if (v === undefined || !Number.isFinite(v)) throw new InternalError(`${this.name}: Params.${name} is ${v}.`);
      if (type === 'f32') view.setFloat32(i * 4, v, true);
      else if (type === 'i32') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });
    return data;
  }

  run(ctx: GpuContext, encoder: GPUCommandEncoder, o: RunOptions): void {
    const storage = this.bindings.length - 1;
    if (o.buffers.length !== storage) {
      throw new InternalError(`${this.name}: ${o.buffers.length} buffers given for ${storage} bindings.`);
    }
    const entry = o.entry ?? 'main';
    const pipeline = ctx.pipelines.get(this.name, this.code, this.bindings, entry, o.overrides ?? {});
    const packed = this.packParams(o.params);
    // A fresh uniform per dispatch: writeBuffer lands before the submit, so sharing one would let the
    // last dispatch's params win. Released at once; the pool reuses it only after the submit.
    const params = ctx.pool.acquire(packed.byteLength, UNIFORM_USAGE, `${this.name}.params`);
    ctx.device.queue.writeBuffer(params, 0, packed);
    ctx.pool.release(params);
    const bindGroup = ctx.device.createBindGroup({
      label: this.name,
      layout: ctx.pipelines.layout(this.name, this.bindings),
      entries: [...o.buffers, params].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const [x, y, z] = foldWorkgroups(o.workgroups, ctx.limits.maxComputeWorkgroupsPerDimension);
    const pass = encoder.beginComputePass({ label: this.name });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }
}

/** Float count of a buffer region a wrapper allocates: bytes for `n` f32 values. */
export const f32Bytes = (n: number): number => n * 4;
