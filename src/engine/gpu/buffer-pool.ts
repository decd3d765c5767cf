/**
 * The one owner of GPU buffers. Buffers are bucketed by (rounded size, usage) and reused.
 *
 * Release is deferred: `release(buf)` parks the buffer on a pending list; `recycle()` (call it right
 * after the `queue.submit` that used the buffer; `submit()` does both) moves pending buffers to the free
 * lists. That ordering is what makes reuse safe: a later `queue.writeBuffer` into a recycled buffer is
 * queued after the submit that last read it. Never recycle before submitting the encoder that uses them.
 *
 * Leaks: `snapshot()` gives the counters (bytes and buffers in use, allocated, free); every engine run
 * returns bytesInUse and buffersInUse to what they were before it, whether it finishes, is cancelled or
 * throws (tests/gpu-soak.test.ts). `guard(fn)` releases what a synchronous recording acquired when it
 * throws half-way, so the recorders need no try/finally per intermediate tensor.
 *
 * Out of memory: every buffer creation runs in its own 'out-of-memory' error scope, so the pool knows
 * which allocation failed and how much it held before it (`failuresSince`). A failed buffer is never
 * handed out again: it is destroyed when released. Callers turn failures into an OutOfMemoryError
 * with the step's planned bytes and a batch that fits (gpu/oom.ts).
 */
import { InternalError, OutOfMemoryError } from '../errors.ts';

export const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST (constants work before globals load)
export const UNIFORM_USAGE = 0x40 | 0x08;        // UNIFORM | COPY_DST
const MAP_READ_USAGE = 0x01 | 0x08;              // MAP_READ | COPY_DST

interface Entry { bucket: string; size: number; state: 'used' | 'pending' | 'free'; failed: boolean }

/** The pool's counters at one moment. */
export interface PoolSnapshot {
  /** Bytes and buffers handed out and not released. */
  bytesInUse: number;
  buffersInUse: number;
  /** Bytes of every live buffer the pool created (in use, pending or free). */
  bytesAllocated: number;
  /** Bytes parked on the free lists, ready for reuse. */
  bytesFree: number;
}

/** A buffer creation the GPU refused (out-of-memory error scope), or one above the device's limits. */
export interface AllocationFailure {
  /** Sequence number of the creation (compare with allocationMark()). */
  seq: number;
  size: number;
  label?: string;
  /** bytesAllocated just before this creation: what the pool could get from the GPU. */
  allocatedBefore: number;
}

/**
 * The numbers an OutOfMemoryError of the engine carries in `details` (gpu/oom.ts reads them): what the step
 * needed, what the GPU gave (or its per-buffer limit), the batch that failed and the largest that fits
 * (null where the thrower does not know the batch, as the pool's own limit check).
 */
export interface OomDetails {
  kind: 'allocation' | 'buffer-limit';
  needBytes: number;
  haveBytes: number;
  batch: number | null;
  suggestedBatch: number | null;
  /** buffer-limit: the buffer's label. */
  label?: string;
}

/** Rounds up so that near sizes share a bucket: 256 B steps below 4 KiB, then quarter powers of two (<= 25% waste). */
export function roundSize(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const step = 2 ** (Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / step) * step;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

export class BufferPool {
  /** Debug switch: when false nothing is reused; released buffers are destroyed at recycle(). */
  reuse: boolean;
  bytesInUse = 0;
  buffersInUse = 0;
  bytesAllocated = 0;
  /**
   * Test hook, called before every acquisition (acquire, upload, read's staging buffer) with the bytes
   * asked for: throwing from it fails that acquisition as the limit check would (fault injection).
   */
  beforeAcquire: ((bytes: number, usage: number, label?: string) => void) | null = null;
  private readonly entries = new Map<GPUBuffer, Entry>();
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  /** Open guard() frames (innermost last); null = an unguarded() region inside a guard. */
  private readonly guards: (Set<GPUBuffer> | null)[] = [];
  private creations = 0;
  private readonly checks = new Set<Promise<void>>();
  /** Buffers whose creation scope has not answered yet, by sequence number. */
  private readonly pendingEntries = new Map<number, GPUBuffer>();
  private readonly failures: AllocationFailure[] = [];

  constructor(readonly device: GPUDevice, options: { reuse?: boolean } = {}) {
    this.reuse = options.reuse ?? true;
  }

  /** A buffer of at least `bytes` bytes; its contents are undefined (old data when reused). */
  acquire(bytes: number, usage: number = STORAGE_USAGE, label?: string): GPUBuffer {
    this.beforeAcquire?.(bytes, usage, label);
    this.checkLimit(bytes, usage, label);
    const size = this.sizeFor(bytes, usage);
    const bucket = `${size}:${usage}`;
    return this.takeFree(bucket) ?? this.create(size, usage, bucket, false, label);
  }

  /** Marks `buf` unused once the submit that uses it has been issued (see recycle()). */
  release(buf: GPUBuffer): void {
    const e = this.entries.get(buf);
    if (!e || e.state !== 'used') throw new InternalError(`Buffer "${buf.label}" released twice or not from this pool.`);
    e.state = 'pending';
    this.bytesInUse -= e.size;
    this.buffersInUse--;
    this.pending.push(buf);
  }

  /** Call after queue.submit(): buffers released before it become reusable (or destroyed without reuse). */
  recycle(): void {
    for (const buf of this.pending) {
      const e = this.entries.get(buf);
      if (!e) continue;
      if (this.reuse && !e.failed) {
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
    this.beforeAcquire?.(data.byteLength, usage, label);
    this.checkLimit(data.byteLength, usage, label);
    const size = this.sizeFor(data.byteLength, usage);
    const bucket = `${size}:${usage}`;
    const reused = this.takeFree(bucket);
    if (reused) {
      this.device.queue.writeBuffer(reused, 0, data.buffer, data.byteOffset, data.byteLength);
      return reused;
    }
    const buf = this.create(size, usage, bucket, true, label);
    try {
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      buf.unmap();
    } catch (e) {
      // A failed creation has no mapping: record the failure, give the buffer back (destroyed at recycle()).
      this.recordFailure({ seq: this.creations - 1, size, label, allocatedBefore: this.bytesAllocated - size });
      this.release(buf);
      this.entries.get(buf)!.failed = true;
      throw new OutOfMemoryError(`Could not map a new ${mib(size)} MiB GPU buffer${label ? ` (${label})` : ''} (${(e as Error).message}).`);
    }
    return buf;
  }

  /** Copies `count` floats starting at float `offset` of `src` (needs COPY_SRC) back to the CPU. */
  async read(src: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
    const bytes = count * 4;
    const staging = this.acquire(bytes, MAP_READ_USAGE, 'staging');
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(src, offset * 4, staging, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      return out;
    } finally {
      this.release(staging);
      this.recycle();
    }
  }

  /** Releases become reusable once the GPU has finished everything submitted so far. */
  async settle(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.recycle();
  }

  /**
   * Runs a synchronous recording; if it throws, every buffer acquired inside it and not released yet is
   * released (the encoder it recorded into is abandoned, so nothing submitted reads them). Buffers that
   * must outlive a failure (accumulators a tap creates) are acquired inside `unguarded()`.
   */
  guard<T>(fn: () => T): T {
    const mine = new Set<GPUBuffer>();
    this.guards.push(mine);
    let ok = false;
    try {
      const result = fn();
      if (result instanceof Promise) throw new InternalError('BufferPool.guard() takes a synchronous function.');
      ok = true;
      return result;
    } finally {
      this.guards.pop();
      if (ok) {
        const parent = this.innermostGuard();
        if (parent) for (const b of mine) if (this.entries.get(b)?.state === 'used') parent.add(b);
      } else {
        for (const b of mine) if (this.entries.get(b)?.state === 'used') this.release(b);
      }
    }
  }

  /** Inside guard(): acquisitions in `fn` belong to the caller and survive a failure of the guarded code. */
  unguarded<T>(fn: () => T): T {
    this.guards.push(null);
    try { return fn(); } finally { this.guards.pop(); }
  }

  /** The sequence number the next buffer creation gets: failures at or after it belong to the caller's step. */
  allocationMark(): number {
    return this.creations;
  }

  /** Waits for the error scopes of every creation so far and returns the failures from `mark` on (before `end`). */
  async failuresSince(mark: number, end = Infinity): Promise<AllocationFailure[]> {
    while (this.checks.size) await Promise.all([...this.checks]);
    return this.failures.filter((f) => f.seq >= mark && f.seq < end);
  }

  /** Destroys the free buffers (after an out-of-memory error, so a retry with a smaller batch has the memory). */
  trim(): void {
    for (const list of this.free.values()) for (const buf of list) this.destroyOne(buf);
    this.free.clear();
  }

  /** Destroys every buffer the pool ever created, in use or not. */
  dispose(): void {
    for (const buf of [...this.entries.keys()]) this.destroyOne(buf);
    this.free.clear();
    this.pending = [];
    this.bytesInUse = 0;
    this.buffersInUse = 0;
  }

  get bytesFree(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'free') n += e.size;
    return n;
  }

  /** The buffers in use now (handed out, not released), for leak reports: diff two calls and read their labels. */
  buffersHeld(): GPUBuffer[] {
    return [...this.entries].filter(([, e]) => e.state === 'used').map(([b]) => b);
  }

  snapshot(): PoolSnapshot {
    return { bytesInUse: this.bytesInUse, buffersInUse: this.buffersInUse, bytesAllocated: this.bytesAllocated, bytesFree: this.bytesFree };
  }

  /** The largest buffer of this usage the device allows (storage buffers: also one binding). */
  private limitFor(usage: number): number {
    const l = this.device.limits;
    return (usage & 0x80) !== 0 ? Math.min(l.maxBufferSize, l.maxStorageBufferBindingSize) : l.maxBufferSize;
  }

  /** A request above the device's per-buffer limit: an OutOfMemoryError with the sizes in `details` (gpu/oom.ts). */
  private checkLimit(bytes: number, usage: number, label?: string): void {
    const limit = this.limitFor(usage);
    if (bytes <= limit) return;
    const err = new OutOfMemoryError(`A ${mib(bytes)} MiB GPU buffer${label ? ` (${label})` : ''} exceeds this GPU's limit of ${(limit / 2 ** 20).toFixed(0)} MiB per buffer; use a smaller batch size.`);
    (err as OutOfMemoryError & { details?: OomDetails }).details = { kind: 'buffer-limit', needBytes: bytes, haveBytes: limit, batch: null, suggestedBatch: null, label };
    throw err;
  }

  /**
   * The bucket size for a request: roundSize, except that a request within the device's limit never gets a
   * bucket above it (a batch planned to fill a binding exactly must not fail on the rounding).
   */
  private sizeFor(bytes: number, usage: number): number {
    const size = roundSize(bytes), limit = this.limitFor(usage);
    if (size <= limit || bytes > limit) return size;
    const aligned = Math.max(16, Math.ceil(bytes / 16) * 16);
    return aligned <= limit ? aligned : Math.ceil(bytes / 4) * 4;
  }

  private innermostGuard(): Set<GPUBuffer> | null {
    return this.guards.length ? this.guards[this.guards.length - 1] : null;
  }

  private takeFree(bucket: string): GPUBuffer | undefined {
    const buf = this.reuse ? this.free.get(bucket)?.pop() : undefined;
    if (buf) this.markUsed(buf, this.entries.get(buf)!);
    return buf;
  }

  private markUsed(buf: GPUBuffer, e: Entry): void {
    e.state = 'used';
    this.bytesInUse += e.size;
    this.buffersInUse++;
    const frame = this.innermostGuard();
    if (frame) frame.add(buf);
    else if (this.guards.length) for (const g of this.guards) g?.delete(buf);  // unguarded(): the caller's, never a guard's
  }

  private create(size: number, usage: number, bucket: string, mapped: boolean, label?: string): GPUBuffer {
    this.checkLimit(size, usage, label);  // sizeFor keeps a request within the limit within it
    const seq = this.creations++, allocatedBefore = this.bytesAllocated;
    this.device.pushErrorScope('out-of-memory');
    let buf: GPUBuffer;
    try {
      buf = this.device.createBuffer({ size, usage, mappedAtCreation: mapped, label });
    } catch (e) {
      // Only mappedAtCreation throws here (RangeError: the mapping could not be allocated): a failure too.
      this.recordFailure({ seq, size, label, allocatedBefore });
      throw new OutOfMemoryError(`Could not create a ${mib(size)} MiB GPU buffer${label ? ` (${label})` : ''} (${(e as Error).message}).`);
    } finally {
      this.watch(this.device.popErrorScope(), { seq, size, label, allocatedBefore });
    }
    const e: Entry = { bucket, size, state: 'used', failed: false };
    this.entries.set(buf, e);
    this.bytesAllocated += size;
    this.markUsed(buf, e);
    this.pendingEntries.set(seq, buf);
    return buf;
  }

  private watch(scope: Promise<GPUError | null>, f: AllocationFailure): void {
    const check: Promise<void> = scope.then((error) => {
      const buf = this.pendingEntries.get(f.seq);
      this.pendingEntries.delete(f.seq);
      if (!error) return;
      this.recordFailure(f);
      const e = buf && this.entries.get(buf);
      if (!e) return;
      e.failed = true;  // never handed out again
      if (e.state === 'free') {
        const list = this.free.get(e.bucket);
        list?.splice(list.indexOf(buf!), 1);
        this.destroyOne(buf!);
      }
    }, () => { this.pendingEntries.delete(f.seq); }).finally(() => { this.checks.delete(check); });
    this.checks.add(check);
  }

  private recordFailure(f: AllocationFailure): void {
    this.failures.push(f);
    if (this.failures.length > 4096) this.failures.splice(0, this.failures.length - 4096);  // rare: only out-of-memory runs add any
  }

  private destroyOne(buf: GPUBuffer): void {
    const e = this.entries.get(buf);
    if (!e) return;
    this.entries.delete(buf);
    this.bytesAllocated -= e.size;
    buf.destroy();
  }
}
