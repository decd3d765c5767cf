/**
 * Per-image activations of the reconstruction set (the residual stream of the quantized or the FP model,
 * or a head input), kept where the memory plan says: on the GPU in copy-only chunk buffers (no binding
 * limit applies), or in host memory with each mini-batch uploaded when it is drawn. Both give the same
 * values; only where the bytes live differs. One owner: dispose() returns every buffer.
 */
import type { GpuContext } from '../gpu/device.ts';
import { allocTensor, readTensor, type GpuTensor } from '../gpu/tensor.ts';

const COPY_USAGE = 0x04 | 0x08;  // COPY_SRC | COPY_DST
const MAX_CHUNK_BYTES = 256 * 2 ** 20;

export class TokenStreams {
  readonly bytesPerImage: number;
  private readonly chunkImages: number;
  private readonly gpuChunks: GPUBuffer[] = [];
  private readonly host: Float32Array | null;
  private readonly pendingReads: { start: number; count: number; t: GpuTensor }[] = [];

  /** n images of [rows, cols] floats each. */
  constructor(private readonly ctx: GpuContext, readonly n: number, readonly rows: number, readonly cols: number,
              readonly storage: 'gpu' | 'host', label: string) {
    this.bytesPerImage = rows * cols * 4;
    const maxBytes = Math.min(MAX_CHUNK_BYTES, ctx.limits.maxBufferSize);
    this.chunkImages = Math.max(1, Math.floor(maxBytes / this.bytesPerImage));
    this.host = storage === 'host' ? new Float32Array(n * rows * cols) : null;
    if (storage === 'gpu') {
      try {
        for (let start = 0; start < n; start += this.chunkImages) {
          const count = Math.min(this.chunkImages, n - start);
          this.gpuChunks.push(ctx.pool.acquire(count * this.bytesPerImage, COPY_USAGE, `${label}[${start}..]`));
        }
      } catch (e) {
        this.dispose();  // a later chunk failed: return the earlier ones (nobody holds this object yet)
        throw e;
      }
    }
  }

  get gpuBytes(): number {
    return this.gpuChunks.reduce((s, b) => s + b.size, 0);
  }

  private where(image: number): { buffer: GPUBuffer; offset: number } {
    const c = Math.floor(image / this.chunkImages);
    return { buffer: this.gpuChunks[c], offset: (image - c * this.chunkImages) * this.bytesPerImage };
  }

  /** Records a copy of the listed images, in order, into a new tensor [indices.length · rows, cols]. */
  gather(enc: GPUCommandEncoder, indices: readonly number[]): GpuTensor {
    const out = allocTensor(this.ctx, [indices.length * this.rows, this.cols], 'streams.batch');
    const per = this.rows * this.cols;
    if (this.host) {
      // writeBuffer lands before the encoder that reads `out` is submitted.
      const staging = new Float32Array(indices.length * per);
      indices.forEach((img, j) => staging.set(this.host!.subarray(img * per, (img + 1) * per), j * per));
      this.ctx.device.queue.writeBuffer(out.buffer, 0, staging.buffer, staging.byteOffset, staging.byteLength);
      return out;
    }
    indices.forEach((img, j) => {
      const { buffer, offset } = this.where(img);
      enc.copyBufferToBuffer(buffer, offset, out.buffer, j * this.bytesPerImage, this.bytesPerImage);
    });
    return out;
  }

  /** The contiguous images [start, start + count) as a new tensor. */
  gatherRange(enc: GPUCommandEncoder, start: number, count: number): GpuTensor {
    return this.gather(enc, Array.from({ length: count }, (_, j) => start + j));
  }

  /**
   * Records storing t ([count · rows, cols]) as images [start, start + count). GPU storage copies on enc;
   * host storage reads t back in flush(), right after enc's submit and before anything else is submitted.
   */
  put(enc: GPUCommandEncoder, start: number, count: number, t: GpuTensor): void {
    if (this.host) { this.pendingReads.push({ start, count, t }); return; }
    for (let j = 0; j < count; j++) {
      const { buffer, offset } = this.where(start + j);
      enc.copyBufferToBuffer(t.buffer, j * this.bytesPerImage, buffer, offset, this.bytesPerImage);
    }
  }

  /** Submits enc and completes the puts recorded on it, for every stream given. */
  static async flush(ctx: GpuContext, enc: GPUCommandEncoder, streams: readonly TokenStreams[]): Promise<void> {
    ctx.pool.submit(enc);
    for (const s of streams) {
      const per = s.rows * s.cols;
      for (const { start, count, t } of s.pendingReads.splice(0)) s.host!.set((await readTensor(ctx, t)).subarray(0, count * per), start * per);
    }
  }

  dispose(): void {
    for (const b of this.gpuChunks.splice(0)) this.ctx.pool.release(b);
    this.ctx.pool.recycle();
  }
}
