/**
 * The one owner of GPU buffers. Buffers are bucketed by (rounded size, usage) and reused.
 *
 * Release is deferred: `release(buf)` parks the buffer on a pending list; `recycle()` (call it right
 * after the `queue.submit` that used the buffer; `submit()` does both) moves pending buffers to the free
 * lists. That ordering is what makes reuse safe: a later `queue.writeBuffer` into a recycled buffer is
 * queued after the submit that last read it. Never recycle before submitting the encoder that uses them.
 */
import { InternalError, OutOfMemoryError } from '../errors.ts';

export const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST (constants work before globals load)
export const UNIFORM_USAGE = 0x40 | 0x08;        // UNIFORM | COPY_DST
const MAP_READ_USAGE = 0x01 | 0x08;              // MAP_READ | COPY_DST

interface Entry { bucket: string; size: number; state: 'used' | 'pending' | 'free' }

/** Rounds up so that near sizes share a bucket: 256 B steps below 4 KiB, then quarter powers of two (<= 25% waste). */
export function roundSize(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const step = 2 ** (Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  /** Debug switch: when false nothing is reused; released buffers are destroyed at recycle(). */
  reuse: boolean;
  bytesInUse = 0;
  bytesAllocated = 0;
  private readonly entries = new Map<GPUBuffer, Entry>();
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice, options: { reuse?: boolean } = {}) {
    this.reuse = options.reuse ?? true;
  }

  /** A buffer of at least `bytes` bytes; its contents are undefined (old data when reused). */
  acquire(bytes: number, usage: number = STORAGE_USAGE, label?: string): GPUBuffer {
    const size = roundSize(bytes);
    const bucket = `${size}:${usage}`;
    const reused = this.reuse ? this.free.get(bucket)?.pop() : undefined;
    if (reused) {
      this.entries.get(reused)!.state = 'used';
      this.bytesInUse += size;
      return reused;
    }
    return this.create(size, usage, bucket, false, label);
  }

  /** Marks `buf` unused once the submit that uses it has been issued (see recycle()). */
  release(buf: GPUBuffer): void {
    const e = this.entries.get(buf);
    if (!e || e.state !== 'used') throw new InternalError(`Buffer "${buf.label}" released twice or not from this pool.`);
    e.state = 'pending';
    this.bytesInUse -= e.size;
    this.pending.push(buf);
  }

  /** Call after queue.submit(): buffers released before it become reusable (or destroyed without reuse). */
  recycle(): void {
    for (const buf of this.pending) {
      const e = this.entries.get(buf)!;
      if (this.reuse) {
        e.state = 'free';
        let list = this.free.get(e.bucket);
        if (!list) this.free.set(e.bucket, (list = []));
        list.push(buf);
      } else {
        this.destroyOne(buf);
      }
    }
    this.pending = [];
  }

  /** Submits the encoder and recycles, so released buffers are reusable by the next recording. */
  submit(encoder: GPUCommandEncoder): void {
    this.device.queue.submit([encoder.finish()]);
    this.recycle();
  }

  /** A storage buffer holding `data` (mappedAtCreation when new, writeBuffer when reused). */
  upload(data: Float32Array | Uint32Array | Int32Array, usage: number = STORAGE_USAGE, label?: string): GPUBuffer {
    const size = roundSize(data.byteLength);
    const bucket = `${size}:${usage}`;
    if (this.reuse && this.free.get(bucket)?.length) {
      const buf = this.acquire(data.byteLength, usage);
      this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
      return buf;
    }
    const buf = this.create(size, usage, bucket, true, label);
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  /** Copies `count` floats starting at float `offset` of `src` (needs COPY_SRC) back to the CPU. */
  async read(src: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
    const bytes = count * 4;
    const staging = this.acquire(bytes, MAP_READ_USAGE, 'staging');
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, offset * 4, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.release(staging);
    this.recycle();
    return out;
  }

  /** Releases become reusable once the GPU has finished everything submitted so far. */
  async settle(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.recycle();
  }

  /** Destroys every buffer the pool ever created, in use or not. */
  dispose(): void {
    for (const buf of [...this.entries.keys()]) this.destroyOne(buf);
    this.free.clear();
    this.pending = [];
    this.bytesInUse = 0;
  }

  get bytesFree(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'free') n += e.size;
    return n;
  }

  private create(size: number, usage: number, bucket: string, mapped: boolean, label?: string): GPUBuffer {
    const limits = this.device.limits;
    if (size > limits.maxBufferSize || ((usage & 0x80) !== 0 && size > limits.maxStorageBufferBindingSize)) {
      const max = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
      throw new OutOfMemoryError(`A ${(size / 2 ** 20).toFixed(1)} MiB GPU buffer${label ? ` (${label})` : ''} exceeds this GPU's limit of ${(max / 2 ** 20).toFixed(0)} MiB; use a smaller batch size.`);
    }
    const buf = this.device.createBuffer({ size, usage, mappedAtCreation: mapped, label });
    this.entries.set(buf, { bucket, size, state: 'used' });
    this.bytesAllocated += size;
    this.bytesInUse += size;
    return buf;
  }

  private destroyOne(buf: GPUBuffer): void {
    const e = this.entries.get(buf);
    if (!e) return;
    this.entries.delete(buf);
    this.bytesAllocated -= e.size;
    buf.destroy();
  }
}
