/**
 * The model's weights on the GPU. One owner: `dispose()` hands every buffer back to the pool.
 * All parameters are uploaded once at load; nothing is re-uploaded per inference.
 */
import type { AllocationFailure } from '../gpu/buffer-pool.ts';
import type { GpuContext } from '../gpu/device.ts';
import { releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import type { BlockWeights, ViTModel } from '../vit/description.ts';

export interface GpuBlock {
  ln1Gamma: GpuTensor; ln1Beta: GpuTensor; qkvW: GpuTensor; qkvB: GpuTensor; projW: GpuTensor; projB: GpuTensor;
  ln2Gamma: GpuTensor; ln2Beta: GpuTensor; fc1W: GpuTensor; fc1B: GpuTensor; fc2W: GpuTensor; fc2B: GpuTensor;
}

export class GpuViTWeights {
  readonly patchW: GpuTensor; readonly patchB: GpuTensor;
  readonly prefix: GpuTensor; readonly posEmbed: GpuTensor;
  readonly blocks: GpuBlock[];
  readonly normGamma: GpuTensor; readonly normBeta: GpuTensor;
  readonly headW: GpuTensor; readonly headB: GpuTensor;
  readonly headDist: { w: GpuTensor; bias: GpuTensor } | undefined;
  private readonly owned: GpuTensor[] = [];
  /** The pool's creation sequence numbers of the uploads, [start, end): their out-of-memory scopes (failures()). */
  private readonly creations: [number, number];

  constructor(private readonly ctx: GpuContext, model: ViTModel) {
    const c = model.config, w = model.weights, kdim = c.inChannels * c.patch * c.patch, start = ctx.pool.allocationMark();
    const up = (data: Float32Array, shape: number[], label: string) => {
      // Owned from the start (never a guard's): a failure here releases them through dispose() below.
      const t = ctx.pool.unguarded(() => uploadTensor(ctx, data, shape, label));
      this.owned.push(t);
      return t;
    };
    try {
      this.patchW = up(w.patchW, [kdim, c.dim], 'patch.w');
      this.patchB = up(w.patchB, [c.dim], 'patch.b');
      this.prefix = up(w.prefix, [c.prefixTokens, c.dim], 'prefix');
      this.posEmbed = up(w.posEmbed, [c.tokens, c.dim], 'pos');
      this.blocks = w.blocks.map((b, i) => uploadBlock(b, c.dim, c.mlpDim, (d, s, n) => up(d, s, `blocks.${i}.${n}`)));
      this.normGamma = up(w.normGamma, [c.dim], 'norm.gamma');
      this.normBeta = up(w.normBeta, [c.dim], 'norm.beta');
      this.headW = up(w.headW, [c.dim, c.numClasses], 'head.w');
      this.headB = up(w.headB, [c.numClasses], 'head.b');
      this.headDist = w.headDistW && w.headDistB
        ? { w: up(w.headDistW, [c.dim, c.numClasses], 'head_dist.w'), bias: up(w.headDistB, [c.numClasses], 'head_dist.b') }
        : undefined;
      this.creations = [start, ctx.pool.allocationMark()];
    } catch (e) {
      this.dispose();  // an upload failed half-way (out of memory, a bad shape): return what was uploaded
      throw e;
    }
  }

  /** Uploads the GPU refused (out of memory), once their error scopes answered; empty when all are in place. */
  failures(): Promise<AllocationFailure[]> {
    return this.ctx.pool.failuresSince(...this.creations);
  }

  get bytes(): number {
    return this.owned.reduce((n, t) => n + t.buffer.size, 0);
  }

  dispose(): void {
    for (const t of this.owned.splice(0)) releaseTensor(this.ctx, t);
    this.ctx.pool.recycle();
  }
}

type Upload = (data: Float32Array, shape: number[], name: string) => GpuTensor;

function uploadBlock(b: BlockWeights, dim: number, mlp: number, up: Upload): GpuBlock {
  return {
    ln1Gamma: up(b.ln1Gamma, [dim], 'ln1.gamma'), ln1Beta: up(b.ln1Beta, [dim], 'ln1.beta'),
    qkvW: up(b.qkvW, [dim, 3 * dim], 'qkv.w'), qkvB: up(b.qkvB, [3 * dim], 'qkv.b'),
    projW: up(b.projW, [dim, dim], 'proj.w'), projB: up(b.projB, [dim], 'proj.b'),
    ln2Gamma: up(b.ln2Gamma, [dim], 'ln2.gamma'), ln2Beta: up(b.ln2Beta, [dim], 'ln2.beta'),
    fc1W: up(b.fc1W, [dim, mlp], 'fc1.w'), fc1B: up(b.fc1B, [mlp], 'fc1.b'),
    fc2W: up(b.fc2W, [mlp, dim], 'fc2.w'), fc2B: up(b.fc2B, [dim], 'fc2.b'),
  };
}
