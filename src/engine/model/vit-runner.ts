/**
 * FP32 ViT inference on our WGSL kernels. Each block is recorded into its own command encoder and
 * submitted, so the pool recycles the block's intermediates for the next one: peak memory is about two
 * blocks' activations, whatever the depth. Batches larger than the memory plan allows run in chunks.
 */
import { type OutOfMemoryError, ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { bufferLimitWithBatch, bytesObtained, formatMB, outOfMemory, suggestBatch } from '../gpu/oom.ts';
import { readTensor, releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import { attention, layerNorm, matmul, patchEmbed, poolHead, sliceCols } from '../kernels/index.ts';
import type { SiteId } from '../stats/types.ts';
import type { ViTConfig, ViTModel } from '../vit/description.ts';
import { activationBytesPerImage, DEFAULT_ACTIVATION_BUDGET, maxChunkImages } from './memory.ts';
import { GpuViTWeights } from './vit-weights-gpu.ts';

export { activationBytesPerImage, DEFAULT_ACTIVATION_BUDGET, maxChunkImages } from './memory.ts';

/**
 * Called with each recorded activation while a block is recorded, on the block's encoder, before the
 * tensor is released: record statistics dispatches on `enc`; never keep `t` beyond the call.
 * Attention probabilities arrive as [B, heads, N, N].
 */
export type ActivationTap = (site: SiteId, t: GpuTensor, enc: GPUCommandEncoder) => void;

export class ViTRunner {
  readonly weights: GpuViTWeights;
  /** Set once the weights' uploads are known to have succeeded (the first forward checks). */
  private weightsChecked = false;

  constructor(readonly ctx: GpuContext, readonly model: ViTModel, private readonly budget = DEFAULT_ACTIVATION_BUDGET) {
    this.weights = new GpuViTWeights(ctx, model);
  }

  /** The largest batch one chunk may hold on this device. */
  maxChunk(): number {
    return maxChunkImages(this.model.config, this.ctx.limits.maxStorageBufferBindingSize, this.budget);
  }

  /** pixels [batch, Cin, S, S] (normalised) → logits [batch, numClasses]. */
  async forward(pixels: Float32Array, batch: number, tap?: ActivationTap): Promise<Float32Array> {
    const c = this.model.config, per = c.inChannels * c.imageSize * c.imageSize;
    if (!Number.isInteger(batch) || batch < 1 || pixels.length !== batch * per) {
      throw new ShapeError(`Input has ${pixels.length} values; batch ${batch} of [${c.inChannels}, ${c.imageSize}, ${c.imageSize}] needs ${batch * per}.`);
    }
    if (!this.weightsChecked) await this.checkWeights();
    const logits = new Float32Array(batch * c.numClasses);
    const chunk = this.maxChunk();
    for (let start = 0; start < batch; start += chunk) {
      const b = Math.min(chunk, batch - start);
      const out = await this.forwardChunk(pixels.subarray(start * per, (start + b) * per), b, tap);
      logits.set(out, start * c.numClasses);
    }
    return logits;
  }

  /**
   * One chunk, inside an out-of-memory error scope: a failed allocation (the pool's own scopes name it)
   * becomes an OutOfMemoryError that says what the chunk needed, what the GPU gave and a batch that fits,
   * instead of a validation error and garbage logits. Everything the chunk acquired is released first.
   */
  private async forwardChunk(pixels: Float32Array, batch: number, tap?: ActivationTap): Promise<Float32Array> {
    const pool = this.ctx.pool, mark = pool.allocationMark(), inUse = pool.bytesInUse;
    this.ctx.device.pushErrorScope('out-of-memory');
    let logits: Float32Array | undefined, failure: unknown;
    try { logits = await this.recordChunk(pixels, batch, tap); } catch (e) { failure = e; }
    const oom = await this.ctx.device.popErrorScope();
    const failed = await pool.failuresSince(mark);
    if (oom || failed.length) {
      pool.trim();
      throw this.outOfMemory(batch, inUse, bytesObtained(failed, pool.bytesAllocated));
    }
    if (failure !== undefined) throw bufferLimitWithBatch(failure, batch, `Running ${batch} image(s) at once`) ?? failure;
    return logits!;
  }

  /** An upload of the weights the GPU refused: no batch helps (the weights are needed whole). */
  private async checkWeights(): Promise<void> {
    const failed = await this.weights.failures();
    if (failed.length) {
      const pool = this.ctx.pool, have = bytesObtained(failed, pool.bytesAllocated);
      pool.trim();
      throw outOfMemory({
        what: `The GPU ran out of memory holding this model's weights (${formatMB(this.weights.bytes)} MB)`,
        needBytes: pool.bytesInUse, haveBytes: have, batch: 1, suggestedBatch: 0,
      });
    }
    this.weightsChecked = true;
  }

  /**
   * "needs N MB, have M MB; try batch B": N = what was in use before the chunk (these weights and any other
   * live buffers) plus the chunk's planned activations (model/memory.ts), B the largest batch that fits M.
   */
  private outOfMemory(batch: number, inUse: number, have: number): OutOfMemoryError {
    const perImage = 2 * activationBytesPerImage(this.model.config).block;
    return outOfMemory({
      what: `The GPU ran out of memory running ${batch} image(s) at once`,
      needBytes: inUse + perImage * batch, haveBytes: have, batch,
      suggestedBatch: suggestBatch(batch, (b) => inUse + perImage * b, have),
      hint: `(${formatMB(inUse)} MB of weights and other buffers, ${formatMB(perImage)} MB of activations per image.)`,
    });
  }

  /**
   * Records and runs one chunk: the embedding, each block and the head, each on its own encoder and
   * submit. QuantViTRunner overrides the three stages, not this order.
   */
  private async recordChunk(pixels: Float32Array, batch: number, tap?: ActivationTap): Promise<Float32Array> {
    const ctx = this.ctx, c = this.model.config, pool = ctx.pool;
    let x: GpuTensor | null = this.runEmbed(pixels, batch);
    try {
      for (let i = 0; i < c.depth; i++) {
        const enc = ctx.device.createCommandEncoder({ label: `block ${i}` });
        const blockTap = tap && ((kind: SiteId['kind'], t: GpuTensor) => pool.unguarded(() => tap({ block: i, kind }, t, enc)));
        const next: GpuTensor = pool.guard(() => this.recordBlock(enc, i, x!, batch, blockTap));
        releaseTensor(ctx, x);
        x = next;
        pool.submit(enc);
      }
      const enc = ctx.device.createCommandEncoder({ label: 'head' });
      const logits: GpuTensor = pool.guard(() => this.recordHead(enc, x!, batch));
      releaseTensor(ctx, x);
      x = logits;
      pool.submit(enc);
      return await readTensor(ctx, logits);
    } finally {
      if (x) releaseTensor(ctx, x);
      pool.recycle();
    }
  }

  /**
   * Stage by stage, for calibration: the embedding of one chunk of images, submitted; the caller owns
   * (and releases) the returned tokens [B·N, dim].
   */
  runEmbed(pixels: Float32Array, batch: number): GpuTensor {
    const ctx = this.ctx, c = this.model.config;
    const enc = ctx.device.createCommandEncoder({ label: 'embed' });
    const x = ctx.pool.guard(() => {
      const image = uploadTensor(ctx, pixels, [batch, c.inChannels, c.imageSize, c.imageSize], 'image');
      const tokens = this.recordEmbed(enc, image);
      releaseTensor(ctx, image);
      return tokens;
    });
    ctx.pool.submit(enc);
    return x;
  }

  /**
   * Block `index` on tokens x (kept: the caller owns x and the result), submitted; the tap sees its sites
   * (what it acquires is its own: a failure of the block does not release it).
   */
  runBlock(index: number, x: GpuTensor, batch: number, tap?: (kind: SiteId['kind'], t: GpuTensor, enc: GPUCommandEncoder) => void): GpuTensor {
    const pool = this.ctx.pool, enc = this.ctx.device.createCommandEncoder({ label: `block ${index}` });
    const next = pool.guard(() => this.recordBlock(enc, index, x, batch, tap && ((kind, t) => pool.unguarded(() => tap(kind, t, enc)))));
    pool.submit(enc);
    return next;
  }

  /** image [B, Cin, S, S] → tokens [B·N, dim] with prefix tokens and position embedding. */
  protected recordEmbed(enc: GPUCommandEncoder, image: GpuTensor): GpuTensor {
    const w = this.weights;
    return patchEmbed(this.ctx, enc, image, w.patchW, w.patchB, w.prefix, w.posEmbed, this.model.config.patch);
  }

  /** Final LayerNorm of the pooled token(s) and the head(s) → logits [B, classes]. */
  protected recordHead(enc: GPUCommandEncoder, x: GpuTensor, batch: number): GpuTensor {
    const w = this.weights;
    return poolHead(this.ctx, enc, x, w.normGamma, w.normBeta, w.headW, w.headB, { batch, eps: this.model.config.lnEps, dist: w.headDist });
  }

  /** x ← x + proj(attn(LN1 x)); x ← x + fc2(gelu(fc1(LN2 x))). Returns the new residual stream. */
  protected recordBlock(enc: GPUCommandEncoder, index: number, x: GpuTensor, batch: number,
                        tap?: (kind: SiteId['kind'], t: GpuTensor) => void): GpuTensor {
    const ctx = this.ctx, c = this.model.config, blk = this.weights.blocks[index];
    const h1 = layerNorm(ctx, enc, x, blk.ln1Gamma, blk.ln1Beta, c.lnEps);
    tap?.('qkv-in', h1);
    const qkv = matmul(ctx, enc, h1, blk.qkvW, blk.qkvB);
    releaseTensor(ctx, h1);
    if (tap) this.tapQkv(enc, qkv, tap);
    const att = attention(ctx, enc, qkv, { batch, heads: c.heads, keepProbs: tap !== undefined });
    releaseTensor(ctx, qkv);
    if (att.probs) { tap?.('attn-probs', att.probs); releaseTensor(ctx, att.probs); }
    tap?.('proj-in', att.out);
    const x2 = matmul(ctx, enc, att.out, blk.projW, blk.projB, { epilogue: 'residual', residual: x });
    releaseTensor(ctx, att.out);
    const h2 = layerNorm(ctx, enc, x2, blk.ln2Gamma, blk.ln2Beta, c.lnEps);
    tap?.('fc1-in', h2);
    const f = matmul(ctx, enc, h2, blk.fc1W, blk.fc1B, { epilogue: c.gelu === 'tanh' ? 'gelu-tanh' : 'gelu-erf' });
    releaseTensor(ctx, h2);
    tap?.('fc2-in', f);
    const x3 = matmul(ctx, enc, f, blk.fc2W, blk.fc2B, { epilogue: 'residual', residual: x2 });
    releaseTensor(ctx, f);
    releaseTensor(ctx, x2);
    tap?.('block-out', x3);
    return x3;
  }

  /** q, k and v as contiguous [B·N, dim] copies, for statistics only. */
  protected tapQkv(enc: GPUCommandEncoder, qkv: GpuTensor, tap: (kind: SiteId['kind'], t: GpuTensor) => void): void {
    const dim = this.model.config.dim;
    (['q', 'k', 'v'] as const).forEach((kind, i) => {
      const part = sliceCols(this.ctx, enc, qkv, i * dim, dim);
      tap(kind, part);
      releaseTensor(this.ctx, part);
    });
  }

  dispose(): void {
    this.weights.dispose();
  }
}
