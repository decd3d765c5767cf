/**
 * A pooled GPU buffer with its logical shape (row-major f32). Wrappers check shapes on these and take
 * their outputs from the pool; whoever ends up holding a tensor releases it (after recording its last use).
 */
import { ShapeError } from '../errors.ts';
import type { GpuContext } from './device.ts';
import { STORAGE_USAGE } from './buffer-pool.ts';

export interface GpuTensor {
  buffer: GPUBuffer;
  shape: readonly number[];
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function allocTensor(ctx: GpuContext, shape: readonly number[], label?: string): GpuTensor {
  return { buffer: ctx.pool.acquire(Math.max(numel(shape), 1) * 4, STORAGE_USAGE, label), shape };
}

export function uploadTensor(ctx: GpuContext, data: Float32Array, shape: readonly number[], label?: string): GpuTensor {
  if (data.length !== numel(shape)) throw new ShapeError(`${label ?? 'tensor'}: ${data.length} values do not fill shape ${fmt(shape)}.`);
  return { buffer: ctx.pool.upload(data.length ? data : new Float32Array(1), STORAGE_USAGE, label), shape };
}

export function readTensor(ctx: GpuContext, t: GpuTensor): Promise<Float32Array> {
  return ctx.pool.read(t.buffer, numel(t.shape));
}

export function releaseTensor(ctx: GpuContext, t: GpuTensor): void {
  ctx.pool.release(t.buffer);
}

/**
 * Checks `t.shape` against `expected`, where a string entry names a size the caller has not fixed yet
 * (e.g. 'M'); returns the sizes found for those names so later checks can use them.
 */
export function expectShape(kernel: string, name: string, t: GpuTensor, expected: readonly (number | string)[],
                            found: Record<string, number> = {}): Record<string, number> {
  const bad = () => new ShapeError(`${kernel}: ${name} must have shape [${expected.join(', ')}]${
    Object.keys(found).length ? ` with ${Object.entries(found).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''} but has ${fmt(t.shape)}.`);
  if (t.shape.length !== expected.length) throw bad();
  expected.forEach((e, i) => {
    const actual = t.shape[i];
    if (typeof e === 'number') { if (actual !== e) throw bad(); }
    else if (e in found) { if (found[e] !== actual) throw bad(); }
    else found[e] = actual;
  });
  return found;
}
