/**
 * Fake-quantized ViT inference on the GPU (simulated quantization, ADFQ.md §1): the weights are
 * fake-quantized ONCE at load on the CPU with the bit-exact twins and uploaded as FP32; every activation
 * quantizer runs on the GPU at its site, on the block's encoder. Same chunking, memory plan and OOM
 * handling as ViTRunner (it is one). CPU twin: reference/vit-forward-quant.ts.
 */
import type { GpuContext } from '../gpu/device.ts';
import { releaseTensor, type GpuTensor } from '../gpu/tensor.ts';
import { attention, layerNorm, matmul, sliceCols } from '../kernels/index.ts';
import { qkvChannelParams, quantizeModelWeights } from '../quant/apply-cpu.ts';
import { GpuQuantParams, gpuActQuantizer, gpuChannelQuantizer, type GpuActQuantizer } from '../quant/gpu-quantizers.ts';
import type { ActQuant, BlockQuantParams, ViTQuantParams, WeightQuantParams } from '../quant/params.ts';
import { siteName, siteQuantizer, type QuantSiteId } from '../quant/sites.ts';
import { UsageError } from '../errors.ts';
import type { SiteId } from '../stats/types.ts';
import type { ViTModel } from '../vit/description.ts';
import { DEFAULT_ACTIVATION_BUDGET, ViTRunner } from './vit-runner.ts';

/** null = that site stays FP32 (not calibrated yet). */
type SiteQuantizer = GpuActQuantizer | null;
interface BlockQuantizers { qkvIn: SiteQuantizer; qkv: SiteQuantizer; probs: SiteQuantizer; projIn: SiteQuantizer; fc1In: SiteQuantizer; fc2In: SiteQuantizer }

export interface QuantRunnerOptions {
  budget?: number;
  /** Attention ownership scheme; default by adapter, as ViTRunner. Tests pin both. */
  attentionVariant?: 'workgroup' | 'rows';
}

export class QuantViTRunner extends ViTRunner {
  private readonly store: GpuQuantParams;
  private readonly bits: number;
  private patchIn: SiteQuantizer;
  private headIn: SiteQuantizer;
  private readonly sites: BlockQuantizers[];
  /** DeiT-distilled: both heads pre-scaled by 0.5 (exact), so the average is one residual matmul. */
  private readonly halfHeads: { w: GpuTensor; b: GpuTensor; dw: GpuTensor; db: GpuTensor } | null;

  /**
   * `params` with only the weights' quantizers (WeightQuantParams) leaves every activation FP32; calibration
   * then sets them one by one with setActivation, in forward order.
   */
  constructor(ctx: GpuContext, readonly fpModel: ViTModel, params: ViTQuantParams | WeightQuantParams, private readonly options: QuantRunnerOptions = {}) {
    super(ctx, quantizeModelWeights(fpModel, params), options.budget ?? DEFAULT_ACTIVATION_BUDGET);
    this.bits = params.bitsA;
    this.store = new GpuQuantParams(ctx);
    this.patchIn = null;
    this.headIn = null;
    this.sites = params.blocks.map(() => ({ qkvIn: null, qkv: null, probs: null, projIn: null, fc1In: null, fc2In: null }));
    try {
      if ('patchIn' in params) {
        this.setActivation({ block: null, kind: 'patch-in' }, params.patchIn);
        this.setActivation({ block: null, kind: 'head-in' }, params.headIn);
        params.blocks.forEach((q, block) => {
          for (const kind of ['qkv-in', 'attn-probs', 'proj-in', 'fc1-in', 'fc2-in'] as const) this.setActivation({ block, kind }, siteQuantizer(params, { block, kind })!);
          this.setQkv(block, q);
        });
      }
      const w = this.model.weights, c = fpModel.config, k = c.numClasses;
      const half = (a: Float32Array, label: string, shape: number[]) => this.store.upload(a.map((v) => 0.5 * v), label, shape);
      this.halfHeads = w.headDistW && w.headDistB
        ? { w: half(w.headW, 'head.w/2', [c.dim, k]), b: half(w.headB, 'head.b/2', [k]),
            dw: half(w.headDistW, 'head_dist.w/2', [c.dim, k]), db: half(w.headDistB, 'head_dist.b/2', [k]) }
        : null;
    } catch (e) {
      this.dispose();  // quantizer parameters or heads failed to upload: return the weights too
      throw e;
    }
  }

  /** Installs one activation quantizer (q, k and v go together: setQkv). */
  setActivation(site: QuantSiteId, q: ActQuant): void {
    const f = gpuActQuantizer(this.ctx, this.store, q, this.bits, this.model.config.tokens, siteName(site));
    if (site.block === null) {
      if (site.kind === 'patch-in') this.patchIn = f; else this.headIn = f;
      return;
    }
    const s = this.sites[site.block];
    switch (site.kind) {
      case 'qkv-in': s.qkvIn = f; return;
      case 'attn-probs': s.probs = f; return;
      case 'proj-in': s.projIn = f; return;
      case 'fc1-in': s.fc1In = f; return;
      case 'fc2-in': s.fc2In = f; return;
      default: throw new UsageError(`q, k and v of block ${site.block} are set together (setQkv).`);
    }
  }

  setQkv(block: number, q: Pick<BlockQuantParams, 'q' | 'k' | 'v'>): void {
    this.sites[block].qkv = gpuChannelQuantizer(this.ctx, this.store, qkvChannelParams(q, this.model.config.dim), this.bits, `b${block}.qkv`);
  }

  /** The patch-embed input quantizer, then the embedding. */
  protected override recordEmbed(enc: GPUCommandEncoder, image: GpuTensor): GpuTensor {
    if (!this.patchIn) return super.recordEmbed(enc, image);
    const imageQ = this.patchIn(enc, image);
    const x = super.recordEmbed(enc, imageQ);
    releaseTensor(this.ctx, imageQ);
    return x;
  }

  /** ViTRunner's block with a quantizer in front of every matmul input and between softmax and P·v. */
  protected override recordBlock(enc: GPUCommandEncoder, index: number, x: GpuTensor, batch: number,
                                 tap?: (kind: SiteId['kind'], t: GpuTensor) => void): GpuTensor {
    return this.recordQuantBlock(enc, index, x, batch, tap, null)!;
  }

  /**
   * Calibration: block `index` on x (kept), stopping right after the tap of site `stopAfter` (q, k and v
   * stop after 'v'), so fitting an early site does not pay for the rest of the block. Submitted. What the
   * tap acquires is the caller's; the block's own tensors are released even when recording throws.
   */
  runBlockUntil(index: number, x: GpuTensor, batch: number, stopAfter: SiteId['kind'],
                tap: (kind: SiteId['kind'], t: GpuTensor, enc: GPUCommandEncoder) => void): void {
    const pool = this.ctx.pool, enc = this.ctx.device.createCommandEncoder({ label: `block ${index} until ${stopAfter}` });
    pool.guard(() => {
      const out = this.recordQuantBlock(enc, index, x, batch, (kind, t) => pool.unguarded(() => tap(kind, t, enc)), stopAfter);
      if (out) releaseTensor(this.ctx, out);
    });
    pool.submit(enc);
  }

  /** The tap sees each quantizer's INPUT (what calibration of the quantized model needs), as ViTRunner's sites. */
  private recordQuantBlock(enc: GPUCommandEncoder, index: number, x: GpuTensor, batch: number,
                           tap: ((kind: SiteId['kind'], t: GpuTensor) => void) | undefined, stopAfter: SiteId['kind'] | null): GpuTensor | null {
    const ctx = this.ctx, c = this.model.config, blk = this.weights.blocks[index], q = this.sites[index];
    const release = (...ts: GpuTensor[]) => { for (const t of ts) releaseTensor(ctx, t); };
    // Quantizes t, releases it, and returns x̂ (after handing the FP input to the tap).
    const fq = (kind: SiteId['kind'], quant: SiteQuantizer, t: GpuTensor) => {
      tap?.(kind, t);
      if (!quant) return t;
      const y = quant(enc, t);
      releaseTensor(ctx, t);
      return y;
    };
    const h1 = fq('qkv-in', q.qkvIn, layerNorm(ctx, enc, x, blk.ln1Gamma, blk.ln1Beta, c.lnEps));
    if (stopAfter === 'qkv-in') { release(h1); return null; }
    const qkvFp = matmul(ctx, enc, h1, blk.qkvW, blk.qkvB);
    release(h1);
    if (tap) this.tapQkv(enc, qkvFp, tap);
    if (stopAfter === 'q' || stopAfter === 'k' || stopAfter === 'v') { release(qkvFp); return null; }
    const qkv = q.qkv ? q.qkv(enc, qkvFp) : qkvFp;  // q, k, v per tensor each: one per-channel call over [3·dim]
    if (qkv !== qkvFp) release(qkvFp);
    const att = attention(ctx, enc, qkv, {
      batch, heads: c.heads, variant: this.options.attentionVariant,
      quantizeProbs: (p) => { tap?.('attn-probs', p); return q.probs ? q.probs(enc, p) : p; },
    });
    release(qkv);
    if (stopAfter === 'attn-probs') { release(att.out); return null; }
    const o = fq('proj-in', q.projIn, att.out);
    if (stopAfter === 'proj-in') { release(o); return null; }
    const x2 = matmul(ctx, enc, o, blk.projW, blk.projB, { epilogue: 'residual', residual: x });
    release(o);
    const h2 = fq('fc1-in', q.fc1In, layerNorm(ctx, enc, x2, blk.ln2Gamma, blk.ln2Beta, c.lnEps));
    if (stopAfter === 'fc1-in') { release(h2, x2); return null; }
    const f = fq('fc2-in', q.fc2In, matmul(ctx, enc, h2, blk.fc1W, blk.fc1B, { epilogue: c.gelu === 'tanh' ? 'gelu-tanh' : 'gelu-erf' }));
    release(h2);
    if (stopAfter === 'fc2-in') { release(f, x2); return null; }
    const x3 = matmul(ctx, enc, f, blk.fc2W, blk.fc2B, { epilogue: 'residual', residual: x2 });
    release(f, x2);
    tap?.('block-out', x3);
    return x3;
  }

  /**
   * pool_head fuses LayerNorm and the head, leaving no place for the head-input quantizer, so: slice the
   * prefix row(s) (a [B, N·dim] view of x), LayerNorm, quantize, matmul.
   */
  protected override recordHead(enc: GPUCommandEncoder, x: GpuTensor, batch: number): GpuTensor {
    const ctx = this.ctx, w = this.weights;
    const row = (t: number) => {
      const h = this.recordHeadInput(enc, x, batch, t);
      if (!this.headIn) return h;
      const y = this.headIn(enc, h);
      releaseTensor(ctx, h);
      return y;
    };
    const cls = row(0);
    const hh = this.halfHeads;
    const logits = matmul(ctx, enc, cls, hh?.w ?? w.headW, hh?.b ?? w.headB);
    releaseTensor(ctx, cls);
    if (!hh) return logits;
    const dist = row(1);
    const avg = matmul(ctx, enc, dist, hh.dw, hh.db, { epilogue: 'residual', residual: logits });
    releaseTensor(ctx, dist);
    releaseTensor(ctx, logits);
    return avg;
  }

  /** The head input of prefix token t (0 cls, 1 dist): final LayerNorm of that row of x [B·N, dim] → [B, dim]. */
  recordHeadInput(enc: GPUCommandEncoder, x: GpuTensor, batch: number, t: number): GpuTensor {
    const ctx = this.ctx, w = this.weights, c = this.model.config;
    const s = sliceCols(ctx, enc, { buffer: x.buffer, shape: [batch, c.tokens * c.dim] }, t * c.dim, c.dim);
    const h = layerNorm(ctx, enc, s, w.normGamma, w.normBeta, c.lnEps);
    releaseTensor(ctx, s);
    return h;
  }

  override dispose(): void {
    this.store.dispose();
    super.dispose();
  }
}
