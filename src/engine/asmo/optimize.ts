/**
 * ASMO's driver (ADFQ.md §5): optimises each module in forward order on the GPU, starting from a
 * calibration result, and returns the params with hardened AdaRound rounding and learned step sizes.
 *
 * Data (§5.2): two residual streams per reconstruction image, the quantized model's (every earlier module
 * hardened) and the FP model's, advanced one branch at a time by the same kernels inference uses. A step
 * draws a mini-batch with replacement, normalises both streams' rows (LN1 or LN2, FP), mixes them (QDrop)
 * and recomputes the FP target and attention maps from the FP rows, so nothing per image but the streams
 * is kept. The run is a pure function of the inputs and the seed.
 *
 * Resuming (checkpoint.ts): nothing but the params carries from one module to the next (each module has its
 * own RNG and QDrop seed, moduleSeed(seed, index), its own Adam state and schedules from step 0), so a run
 * given a checkpoint installs its params, skips its finished modules and accuracy points, still propagates
 * the streams through every branch as the uninterrupted run does, and then returns what that run returns.
 */
import { CancelledError, OutOfMemoryError } from '../errors.ts';
import { bytesObtained, outOfMemory, suggestBatch } from '../gpu/oom.ts';
import type { GpuContext } from '../gpu/device.ts';
import { allocTensor, readTensor, releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import { layerNorm, patchEmbed, reconLoss, sliceCols } from '../kernels/index.ts';
import { QuantViTRunner } from '../model/quant-runner.ts';
import { GpuViTWeights } from '../model/vit-weights-gpu.ts';
import { fakeQuantNearest, qkvChannelParams } from '../quant/apply-cpu.ts';
import { GpuQuantParams, gpuActQuantizer, gpuChannelQuantizer } from '../quant/gpu-quantizers.ts';
import type { BlockQuantParams, ChannelQuant, ViTQuantParams } from '../quant/params.ts';
import { packRounding, roundedWeight, unpackRounding, type WeightLayer } from '../quant/weight-rounding.ts';
import type { ViTModel } from '../vit/description.ts';
import { attentionForward, mlpForward, linearForward, releaseAll, type AttentionQuant, type MlpQuant } from './forward.ts';
import { asmoMemoryPlan } from './memory-plan.ts';
import { AttentionModule, LinearModule, MlpModule, type ModuleSetup, type StepInput, type TrainableModule } from './modules.ts';
import {
  asmoModuleName, checkAsmoSettings, type AsmoAccuracyPoint, type AsmoCheckpoint, type AsmoEvent, type AsmoLossPoint, type AsmoModuleId,
  type AsmoModuleReport, type AsmoSettings, type AsmoSummary, type RoundingShare,
} from './settings.ts';
import { asmoFingerprint, asmoModuleOrder, checkAsmoCheckpoint } from './checkpoint.ts';
import { TokenStreams } from './token-streams.ts';
import { im2col, mulberry32, moduleSeed } from './batches.ts';

export interface AsmoHooks {
  /** Every event of the run, in order (module starts, loss points, finished modules, accuracy so far). */
  onEvent?: (e: AsmoEvent) => void;
  /** Checked between steps: cancelling throws CancelledError (finished modules are reported already). */
  signal?: AbortSignal;
  /** Awaited between steps: resolves when the user resumes (pause). */
  waitIfPaused?: () => Promise<void>;
}

/** Labelled images held out from reconstruction, for the accuracy-so-far curve (measured after each block). */
export interface HeldOutImages {
  pixels: Float32Array;
  labels: Int32Array;
  count: number;
}

export interface AsmoInput {
  /** Normalised reconstruction images [n, Cin, S, S]. */
  pixels: Float32Array;
  n: number;
  /** The calibrated starting point (ADFQ quantizers, nearest-rounded weights). */
  params: ViTQuantParams;
  settings: AsmoSettings;
  heldOut?: HeldOutImages | null;
  /** The last checkpoint of an interrupted run of this same input: its finished modules are not optimised again. */
  resume?: AsmoCheckpoint | null;
}

/** Images whose reconstruction error is reported before and after each module. */
const REC_SAMPLE = 64;
/** Loss points per module curve (each the mean over its window of steps). */
const CURVE_POINTS = 100;

export interface AsmoOptions {
  /** Residual streams up to this many bytes stay on the GPU, larger ones in host memory (memory-plan.ts). */
  streamBudget?: number;
}

export async function runAsmo(ctx: GpuContext, model: ViTModel, input: AsmoInput, hooks: AsmoHooks = {},
                              options: AsmoOptions = {}): Promise<{ params: ViTQuantParams; summary: AsmoSummary }> {
  checkAsmoSettings(input.settings);
  const fingerprint = asmoFingerprint(model, input), order = asmoModuleOrder(model.config.depth, input.settings.modules);
  // Checked before anything is allocated: a refused checkpoint leaves the GPU as it was.
  if (input.resume) checkAsmoCheckpoint(input.resume, { settings: input.settings, fingerprint, order });
  const run = new AsmoRun(ctx, model, input, hooks, options, fingerprint, order.length);
  try {
    const result = await run.execute();
    await run.checkMemory();
    return result;
  } catch (e) {
    // A failed allocation (the pool's own error scopes record it) is the cause of whatever broke after it.
    if (!(e instanceof OutOfMemoryError)) await run.checkMemory();
    throw e;
  } finally {
    run.dispose();
  }
}

/**
 * "needs N MB, have M MB; try batch B" when an allocation failed since the run began: N = what was in use
 * before plus the plan's peak, M = what the pool got before the failure, B = the largest mini-batch whose
 * plan fits M. Finished modules were reported already (and checkpointed), so a smaller batch can resume.
 */
async function throwIfOutOfMemory(ctx: GpuContext, model: ViTModel, input: AsmoInput, mark: number, inUseBefore: number,
                                  streamBudget?: number): Promise<void> {
  const failed = await ctx.pool.failuresSince(mark);
  if (!failed.length) return;
  ctx.pool.trim();
  const batch = input.settings.batch, have = bytesObtained(failed, ctx.pool.bytesAllocated);
  const need = (b: number) => inUseBefore + asmoMemoryPlan(model.config, input.n, b, ctx.limits, streamBudget).peakBytes;
  const suggested = suggestBatch(batch, need, have);
  throw outOfMemory({
    what: `The GPU ran out of memory optimising module-wise (ASMO) at a mini-batch of ${batch} images`,
    needBytes: need(batch), haveBytes: have, batch, suggestedBatch: suggested, batchMeaning: 'ASMO mini-batch',
    hint: suggested >= 1 ? 'Finished modules are kept: resume with the smaller batch.' : 'Finished modules are kept.',
  });
}

type Variant = 'before' | 'after';
/** A module's quantized forward, prepared once: records y of x (+ residual in the last matmul's epilogue). */
type QuantForward = (enc: GPUCommandEncoder, x: GpuTensor, images: number, residual?: GpuTensor) => GpuTensor;

class AsmoRun {
  private readonly s: AsmoSettings;
  private readonly params: ViTQuantParams;
  private readonly fp: GpuViTWeights;
  private readonly plan;
  private readonly reports: AsmoModuleReport[];
  private readonly accuracy: AsmoAccuracyPoint[];
  private readonly owned: { dispose(): void }[] = [];
  private readonly total: number;
  private index = 0;
  /** Resuming: modules and accuracy points the checkpoint has already; seconds spent before this run. */
  private readonly skipModules: number;
  private skipAccuracy: number;
  private readonly priorSeconds: number;
  private xq: TokenStreams | null = null;
  private xfp: TokenStreams | null = null;
  private readonly started = performance.now();

  constructor(private readonly ctx: GpuContext, private readonly model: ViTModel, private readonly input: AsmoInput, private readonly hooks: AsmoHooks,
              options: AsmoOptions, private readonly fingerprint: string, total: number) {
    const r = input.resume;
    // Before the first allocation: what was in use, and where to look for failed allocations from.
    this.memoryMark = { mark: ctx.pool.allocationMark(), inUse: ctx.pool.bytesInUse, streamBudget: options.streamBudget };
    this.s = input.settings;
    this.params = structuredClone(r?.params ?? input.params);
    this.params.rounding = { ...(this.params.rounding ?? {}) };
    this.reports = structuredClone(r?.modules ?? []);
    this.accuracy = structuredClone(r?.accuracy ?? []);
    this.skipModules = r?.finished ?? 0;
    this.skipAccuracy = this.accuracy.length;
    this.priorSeconds = r?.seconds ?? 0;
    this.fp = new GpuViTWeights(ctx, model);
    this.plan = asmoMemoryPlan(model.config, input.n, this.s.batch, ctx.limits, options.streamBudget);
    this.total = total;
  }

  private seconds(): number {
    return this.priorSeconds + (performance.now() - this.started) / 1000;
  }

  /** The run's state after `finished` modules, copied: later modules never change what a listener keeps. */
  private snapshot(finished: number): AsmoCheckpoint {
    return structuredClone({ version: 1, settings: this.s, finished, total: this.total, params: this.params, modules: this.reports,
      accuracy: this.accuracy, seconds: this.seconds(), fingerprint: this.fingerprint });
  }

  /** Optimises the next module unless the resumed checkpoint finished it (its params are in place already). */
  private async visit(optimise: () => Promise<void>): Promise<void> {
    if (this.index < this.skipModules) { this.index++; return; }
    await optimise();
  }

  private readonly memoryMark: { mark: number; inUse: number; streamBudget?: number };

  /** Throws the run's OutOfMemoryError when an allocation failed since the run began. */
  checkMemory(): Promise<void> {
    const m = this.memoryMark;
    return throwIfOutOfMemory(this.ctx, this.model, this.input, m.mark, m.inUse, m.streamBudget);
  }

  private emit(e: AsmoEvent): void {
    this.hooks.onEvent?.(e);
  }

  async execute(): Promise<{ params: ViTQuantParams; summary: AsmoSummary }> {
    const c = this.model.config, m = this.s.modules;
    this.emit({ type: 'phase', text: this.plan.summary });
    if (this.input.resume) this.emit({ type: 'phase', text: `Resuming after module ${this.skipModules} of ${this.total}` });
    await this.measureAccuracy(0, 'calibrated');
    if (m.patch) await this.visit(() => this.optimisePatch());
    this.xq = new TokenStreams(this.ctx, this.input.n, c.tokens, c.dim, this.plan.storage, 'asmo.xq');
    this.xfp = new TokenStreams(this.ctx, this.input.n, c.tokens, c.dim, this.plan.storage, 'asmo.xfp');
    this.emit({ type: 'phase', text: 'embedding the reconstruction images' });
    await this.embedAll();
    for (let b = 0; b < c.depth; b++) {
      if (m.attention) await this.visit(() => this.optimiseBranch(b, 'attention'));
      await this.propagate(b, 'attention');
      if (m.mlp) await this.visit(() => this.optimiseBranch(b, 'mlp'));
      await this.propagate(b, 'mlp');
      await this.measureAccuracy(b + 1, `block ${b}`);
    }
    if (m.head) {
      await this.visit(() => this.optimiseHead());
      await this.measureAccuracy(c.depth, 'head');
    }
    const summary: AsmoSummary = {
      settings: this.s, images: this.input.n, modules: this.reports, accuracy: this.accuracy, memory: this.plan,
      seconds: this.seconds(),
    };
    return { params: this.params, summary };
  }

  // ---- modules ---------------------------------------------------------------------------------

  private setup(enc: GPUCommandEncoder, label: string): ModuleSetup {
    return { ctx: this.ctx, enc, bitsW: this.params.bitsW, bitsA: this.params.bitsA, tokens: this.model.config.tokens, label };
  }

  private async optimisePatch(): Promise<void> {
    const c = this.model.config, w = this.model.weights, patches = (c.imageSize / c.patch) ** 2;
    const id: AsmoModuleId = { kind: 'patch', block: null };
    const enc = this.ctx.device.createCommandEncoder({ label: 'asmo patch setup' });
    const module = this.ctx.pool.guard(() => new LinearModule(this.setup(enc, 'patch'), { w: this.fp.patchW, b: this.fp.patchB }, w.patchW, this.params.patchW, this.params.patchIn));
    this.ctx.pool.submit(enc);
    const inputs = (e: GPUCommandEncoder, idx: readonly number[]): StepInput => {
      const x = uploadTensor(this.ctx, im2col(this.input.pixels, idx, c), [idx.length * patches, c.inChannels * c.patch ** 2], 'asmo.patches');
      void e;
      return { xq: x, xfp: x, images: idx.length };
    };
    const evalRec = (v: Variant) => this.recError(inputs, (store) => {
      const wq = this.layerWeight(store, 'patch', w.patchW, this.params.patchW, [c.inChannels * c.patch ** 2, c.dim], v);
      const q = gpuActQuantizer(this.ctx, store, v === 'before' ? this.input.params.patchIn : this.params.patchIn, this.params.bitsA, c.tokens, 'patch-in');
      return (e, x, images) => linearForward(this.ctx, e, x, { w: wq, b: this.fp.patchB }, q, { batch: images }).y;
    }, (e, x, images) => linearForward(this.ctx, e, x, { w: this.fp.patchW, b: this.fp.patchB }, null, { batch: images }).y);
    await this.optimise(id, module, inputs, evalRec, async () => {
      this.params.patchIn = (await module.sites[0].read()) as ViTQuantParams['patchIn'];
      return [['patch', module.weights[0]]];
    });
  }

  private async optimiseBranch(b: number, kind: 'attention' | 'mlp'): Promise<void> {
    const c = this.model.config, hostBlk = this.model.weights.blocks[b], blk = this.fp.blocks[b], q = this.params.blocks[b];
    const enc = this.ctx.device.createCommandEncoder({ label: `asmo ${kind} ${b} setup` });
    const store = new GpuQuantParams(this.ctx);
    this.owned.push(store);
    const setup = this.setup(enc, `b${b}.${kind}`);
    const module: TrainableModule = this.ctx.pool.guard(() => kind === 'attention'
      ? new AttentionModule(setup, { qkvW: blk.qkvW, qkvB: blk.qkvB, projW: blk.projW, projB: blk.projB },
        { qkvW: hostBlk.qkvW, projW: hostBlk.projW }, q, store, c.heads)
      : new MlpModule(setup, { fc1W: blk.fc1W, fc1B: blk.fc1B, fc2W: blk.fc2W, fc2B: blk.fc2B }, { fc1W: hostBlk.fc1W, fc2W: hostBlk.fc2W }, q, this.gelu()));
    this.ctx.pool.submit(enc);
    const inputs = (e: GPUCommandEncoder, idx: readonly number[]) => this.branchInputs(e, b, kind, idx);
    const evalRec = (v: Variant) => this.recError(inputs, (store) => this.branchQuantForward(store, b, kind, v),
      (e, x, images) => this.branchForwardFp(e, b, kind, x, images));
    await this.optimise({ kind, block: b }, module, inputs, evalRec, async () => {
      const [s0, s1] = module.sites, [w0, w1] = module.weights;
      if (kind === 'attention') {
        q.qkvIn = (await s0.read()) as BlockQuantParams['qkvIn'];
        q.projIn = (await s1.read()) as BlockQuantParams['projIn'];
        return [[`blocks.${b}.qkv`, w0], [`blocks.${b}.proj`, w1]];
      }
      q.fc1In = (await s0.read()) as BlockQuantParams['fc1In'];
      q.fc2In = (await s1.read()) as BlockQuantParams['fc2In'];
      return [[`blocks.${b}.fc1`, w0], [`blocks.${b}.fc2`, w1]];
    });
  }

  private async optimiseHead(): Promise<void> {
    const c = this.model.config, w = this.model.weights, n = this.input.n;
    const headQ = new TokenStreams(this.ctx, n, 1, c.dim, 'gpu', 'asmo.head.q');
    this.owned.push(headQ);
    const headF = new TokenStreams(this.ctx, n, 1, c.dim, 'gpu', 'asmo.head.fp');
    this.owned.push(headF);
    for (let start = 0; start < n; start += this.s.batch) {
      const count = Math.min(this.s.batch, n - start), enc = this.ctx.device.createCommandEncoder({ label: 'asmo head inputs' });
      for (const [from, to] of [[this.xq!, headQ], [this.xfp!, headF]] as const) {
        this.ctx.pool.guard(() => {
          const x = from.gatherRange(enc, start, count), h = this.headInput(enc, x, count);
          to.put(enc, start, count, h);
          releaseAll(this.ctx, [], [x, h]);
        });
      }
      await TokenStreams.flush(this.ctx, enc, [headQ, headF]);
    }
    const enc = this.ctx.device.createCommandEncoder({ label: 'asmo head setup' });
    const module = this.ctx.pool.guard(() => new LinearModule(this.setup(enc, 'head'), { w: this.fp.headW, b: this.fp.headB }, w.headW, this.params.headW, this.params.headIn));
    this.ctx.pool.submit(enc);
    const inputs = (e: GPUCommandEncoder, idx: readonly number[]): StepInput => ({ xq: headQ.gather(e, idx), xfp: headF.gather(e, idx), images: idx.length });
    const evalRec = (v: Variant) => this.recError(inputs, (store) => {
      const wq = this.layerWeight(store, 'head', w.headW, this.params.headW, [c.dim, c.numClasses], v);
      const q = gpuActQuantizer(this.ctx, store, v === 'before' ? this.input.params.headIn : this.params.headIn, this.params.bitsA, c.tokens, 'head-in');
      return (e, x, images) => linearForward(this.ctx, e, x, { w: wq, b: this.fp.headB }, q, { batch: images }).y;
    }, (e, x, images) => linearForward(this.ctx, e, x, { w: this.fp.headW, b: this.fp.headB }, null, { batch: images }).y);
    await this.optimise({ kind: 'head', block: null }, module, inputs, evalRec, async () => {
      this.params.headIn = (await module.sites[0].read()) as ViTQuantParams['headIn'];
      return [['head', module.weights[0]]];
    });
  }

  /**
   * The loop shared by every module: L_rec before, `iters` steps with the loss history read back a few
   * times per second of work, hardening (params updated by `finish`), L_rec after.
   */
  private async optimise(id: AsmoModuleId, module: TrainableModule, inputs: (e: GPUCommandEncoder, idx: readonly number[]) => StepInput,
                         evalRec: (v: Variant) => Promise<number>,
                         finish: () => Promise<[WeightLayer, TrainableModule['weights'][number]][]>): Promise<void> {
    this.owned.push(module);
    const index = this.index++, name = asmoModuleName(id), started = performance.now(), s = this.s, n = this.input.n;
    this.emit({ type: 'module-start', module: id, name, index, total: this.total });
    const recBefore = await evalRec('before');
    const history = allocTensor(this.ctx, [3 * s.iters], 'asmo.history');
    const clear = this.ctx.device.createCommandEncoder();
    clear.clearBuffer(history.buffer, 0, 12 * s.iters);
    this.ctx.pool.submit(clear);
    const seed = moduleSeed(s.seed, index), rng = mulberry32(seed), every = Math.max(1, Math.ceil(s.iters / CURVE_POINTS));
    const curve: AsmoLossPoint[] = [];
    let read = 0;
    try {
      for (let step = 0; step < s.iters; step++) {
        await this.pausePoint();
        const idx = Array.from({ length: s.batch }, () => Math.floor(rng() * n));
        const enc = this.ctx.device.createCommandEncoder({ label: `${name} step ${step}` });
        this.ctx.pool.guard(() => {
          const x = inputs(enc, idx);
          module.step(enc, x, { step, settings: s, history, mixSeed: seed });
          releaseAll(this.ctx, [], [x.xq, x.xfp]);
        });
        this.ctx.pool.submit(enc);
        if ((step + 1) % every === 0 || step === s.iters - 1) {
          const points = await this.readCurve(history, read, step + 1);
          read = step + 1;
          curve.push(...points);
          const share = (step + 1) % (every * 10) === 0 ? await this.roundingShare(module) : null;
          this.emit({ type: 'losses', index, points, rounding: share });
        }
      }
    } finally {
      releaseTensor(this.ctx, history);
    }
    const layers = await finish();
    const shares: RoundingShare[] = [];
    for (const [layer, w] of layers) {
      const h = await w.hardened();
      this.params.rounding![layer] = packRounding(h.up);
      shares.push(h.share);
    }
    const recAfter = await evalRec('after');
    // A failed allocation leaves garbage where it should have written: no checkpoint may be made from that.
    await this.checkMemory();
    const report: AsmoModuleReport = { module: id, name, iters: s.iters, curve, rounding: mergeShares(shares), recBefore, recAfter,
      seconds: (performance.now() - started) / 1000 };
    this.reports.push(report);
    this.emit({ type: 'module-done', index, report, checkpoint: this.snapshot(index + 1) });
    this.owned.splice(this.owned.indexOf(module), 1);
    module.dispose();
  }

  private async pausePoint(): Promise<void> {
    if (this.hooks.waitIfPaused) await this.hooks.waitIfPaused();
    if (this.hooks.signal?.aborted) throw new CancelledError('Module-wise optimisation cancelled.');
  }

  /** Mean loss terms over each window of steps [from, to) since the last read. */
  private async readCurve(history: GpuTensor, from: number, to: number): Promise<AsmoLossPoint[]> {
    const h = await this.ctx.pool.read(history.buffer, 3 * (to - from), 3 * from);
    let rec = 0, round = 0, attn = 0;
    for (let i = 0; i < to - from; i++) { rec += h[3 * i]; round += h[3 * i + 1]; attn += h[3 * i + 2]; }
    const k = to - from;
    return [{ step: to, rec: rec / k, round: round / k, attn: attn / k, total: (rec + round + attn) / k }];
  }

  private async roundingShare(module: TrainableModule): Promise<RoundingShare> {
    const shares: RoundingShare[] = [];
    for (const w of module.weights) shares.push((await w.hardened()).share);
    return mergeShares(shares);
  }

  // ---- data ------------------------------------------------------------------------------------

  private gelu(): 'gelu-erf' | 'gelu-tanh' {
    return this.model.config.gelu === 'tanh' ? 'gelu-tanh' : 'gelu-erf';
  }

  /** Rows of both streams, normalised by the branch's LayerNorm (FP, frozen). */
  private branchInputs(enc: GPUCommandEncoder, b: number, kind: 'attention' | 'mlp', idx: readonly number[]): StepInput {
    const c = this.model.config, blk = this.fp.blocks[b];
    const [gamma, beta] = kind === 'attention' ? [blk.ln1Gamma, blk.ln1Beta] : [blk.ln2Gamma, blk.ln2Beta];
    const norm = (streams: TokenStreams) => {
      const x = streams.gather(enc, idx), h = layerNorm(this.ctx, enc, x, gamma, beta, c.lnEps);
      releaseTensor(this.ctx, x);
      return h;
    };
    return { xq: norm(this.xq!), xfp: norm(this.xfp!), images: idx.length };
  }

  /** The branch's quantizers from the params: calibrated ('before') or learned ('after'). */
  private branchQuant(store: GpuQuantParams, b: number, kind: 'attention' | 'mlp', v: Variant): AttentionQuant | MlpQuant {
    const q = (v === 'before' ? this.input.params : this.params).blocks[b], bits = this.params.bitsA, t = this.model.config.tokens;
    const act = (x: Parameters<typeof gpuActQuantizer>[2], label: string) => gpuActQuantizer(this.ctx, store, x, bits, t, `b${b}.${label}`);
    if (kind === 'mlp') return { fc1In: act(q.fc1In, 'fc1-in'), fc2In: act(q.fc2In, 'fc2-in') };
    return {
      qkvIn: act(q.qkvIn, 'qkv-in'), qkv: gpuChannelQuantizer(this.ctx, store, qkvChannelParams(q, this.model.config.dim), bits, `b${b}.qkv`),
      probs: act(q.probs, 'probs'), projIn: act(q.projIn, 'proj-in'),
    };
  }

  /** A weight quantized as the params say: nearest ('before') or with the hardened mask ('after'). */
  private layerWeight(store: GpuQuantParams, layer: WeightLayer, host: Float32Array, q: ChannelQuant, shape: number[], v: Variant): GpuTensor {
    const mask = v === 'after' ? this.params.rounding?.[layer] : undefined, bits = this.params.bitsW;
    const values = mask ? roundedWeight(host, q, bits, unpackRounding(mask, host.length)) : fakeQuantNearest(host, q, bits);
    return store.upload(values, `${layer}.q`, shape);
  }

  /**
   * The quantized branch as the params say (weights quantized and uploaded into `store` once, then used for
   * every chunk): records y of x (+ residual) on the given encoder.
   */
  private branchQuantForward(store: GpuQuantParams, b: number, kind: 'attention' | 'mlp', v: Variant): QuantForward {
    const c = this.model.config, host = this.model.weights.blocks[b], q = this.params.blocks[b], blk = this.fp.blocks[b];
    const wt = (layer: 'qkv' | 'proj' | 'fc1' | 'fc2', rows: number, cols: number) =>
      this.layerWeight(store, `blocks.${b}.${layer}`, host[`${layer}W`], q[`${layer}W`], [rows, cols], v);
    if (kind === 'attention') {
      const w = { qkvW: wt('qkv', c.dim, 3 * c.dim), qkvB: blk.qkvB, projW: wt('proj', c.dim, c.dim), projB: blk.projB };
      const quant = this.branchQuant(store, b, kind, v) as AttentionQuant;
      return (enc, x, images, residual) => attentionForward(this.ctx, enc, x, w, quant, { batch: images, heads: c.heads, residual }).y;
    }
    const w = { fc1W: wt('fc1', c.dim, c.mlpDim), fc1B: blk.fc1B, fc2W: wt('fc2', c.mlpDim, c.dim), fc2B: blk.fc2B };
    const quant = this.branchQuant(store, b, kind, v) as MlpQuant;
    return (enc, x, images, residual) => mlpForward(this.ctx, enc, x, w, quant, { batch: images, gelu: this.gelu(), residual }).y;
  }

  private branchForwardFp(enc: GPUCommandEncoder, b: number, kind: 'attention' | 'mlp', x: GpuTensor, images: number, residual?: GpuTensor): GpuTensor {
    const blk = this.fp.blocks[b];
    return kind === 'attention'
      ? attentionForward(this.ctx, enc, x, blk, null, { batch: images, heads: this.model.config.heads, residual }).y
      : mlpForward(this.ctx, enc, x, blk, null, { batch: images, gelu: this.gelu(), residual }).y;
  }

  /**
   * L_rec = Σ(ŷ − y)²/(images·C) of the module with nearest/calibrated ('before') or hardened/learned ('after')
   * parameters on its quantized-model inputs of the first REC_SAMPLE images (no mixing).
   */
  private async recError(inputs: (e: GPUCommandEncoder, idx: readonly number[]) => StepInput,
                         prepare: (store: GpuQuantParams) => QuantForward,
                         fp: (e: GPUCommandEncoder, x: GpuTensor, images: number) => GpuTensor): Promise<number> {
    const count = Math.min(REC_SAMPLE, this.input.n), store = new GpuQuantParams(this.ctx);
    let sum = 0;
    try {
      const quant = prepare(store);
      for (let start = 0; start < count; start += this.s.batch) {
        const k = Math.min(this.s.batch, count - start), enc = this.ctx.device.createCommandEncoder({ label: 'asmo rec error' });
        const sq = this.ctx.pool.guard(() => {
          const x = inputs(enc, Array.from({ length: k }, (_, j) => start + j));
          const yq = quant(enc, x.xq, k), y = fp(enc, x.xfp, k);
          const { grad, partials } = reconLoss(this.ctx, enc, yq, y, { batch: k });
          releaseAll(this.ctx, [], [x.xq, x.xfp, yq, y, grad]);
          return partials;
        });
        try {
          this.ctx.pool.submit(enc);
          sum += (await readTensor(this.ctx, sq)).reduce((a, v) => a + v, 0) * k;  // L_rec of this chunk is per image: undo its /k
        } finally {
          releaseTensor(this.ctx, sq);
        }
      }
    } finally {
      store.dispose();
    }
    return sum / count;
  }

  /** Tokens of every reconstruction image: the FP embedding and the quantized one (patch-in quantizer, patch weights as the params say). */
  private async embedAll(): Promise<void> {
    const c = this.model.config, n = this.input.n, per = c.inChannels * c.imageSize ** 2, w = this.model.weights;
    const store = new GpuQuantParams(this.ctx);
    try {
      const patchIn = gpuActQuantizer(this.ctx, store, this.params.patchIn, this.params.bitsA, c.tokens, 'patch-in');
      const patchW = this.layerWeight(store, 'patch', w.patchW, this.params.patchW, [c.inChannels * c.patch ** 2, c.dim], 'after');
      for (let start = 0; start < n; start += this.s.batch) {
        const k = Math.min(this.s.batch, n - start), enc = this.ctx.device.createCommandEncoder({ label: 'asmo embed' });
        this.ctx.pool.guard(() => {
          const image = uploadTensor(this.ctx, this.input.pixels.subarray(start * per, (start + k) * per), [k, c.inChannels, c.imageSize, c.imageSize], 'asmo.image');
          const imageQ = patchIn(enc, image);
          const tq = patchEmbed(this.ctx, enc, imageQ, patchW, this.fp.patchB, this.fp.prefix, this.fp.posEmbed, c.patch);
          const tf = patchEmbed(this.ctx, enc, image, this.fp.patchW, this.fp.patchB, this.fp.prefix, this.fp.posEmbed, c.patch);
          this.xq!.put(enc, start, k, tq);
          this.xfp!.put(enc, start, k, tf);
          releaseAll(this.ctx, [], [image, imageQ, tq, tf]);
        });
        await TokenStreams.flush(this.ctx, enc, [this.xq!, this.xfp!]);
      }
    } finally {
      store.dispose();
    }
  }

  /** Advances both streams through the hardened branch (quantized) and the FP branch, as inference does. */
  private async propagate(b: number, kind: 'attention' | 'mlp'): Promise<void> {
    const c = this.model.config, n = this.input.n, blk = this.fp.blocks[b];
    const [gamma, beta] = kind === 'attention' ? [blk.ln1Gamma, blk.ln1Beta] : [blk.ln2Gamma, blk.ln2Beta];
    const store = new GpuQuantParams(this.ctx), quant = this.branchQuantForward(store, b, kind, 'after');
    this.owned.push(store);  // released after the last chunk, or by dispose() on a cancel
    for (let start = 0; start < n; start += this.s.batch) {
      await this.pausePoint();
      const k = Math.min(this.s.batch, n - start), enc = this.ctx.device.createCommandEncoder({ label: `asmo propagate b${b} ${kind}` });
      this.ctx.pool.guard(() => {
        const xq = this.xq!.gatherRange(enc, start, k), xf = this.xfp!.gatherRange(enc, start, k);
        const hq = layerNorm(this.ctx, enc, xq, gamma, beta, c.lnEps), hf = layerNorm(this.ctx, enc, xf, gamma, beta, c.lnEps);
        const yq = quant(enc, hq, k, xq), yf = this.branchForwardFp(enc, b, kind, hf, k, xf);
        this.xq!.put(enc, start, k, yq);
        this.xfp!.put(enc, start, k, yf);
        releaseAll(this.ctx, [], [xq, xf, hq, hf, yq, yf]);
      });
      await TokenStreams.flush(this.ctx, enc, [this.xq!, this.xfp!]);
    }
    this.owned.splice(this.owned.indexOf(store), 1);
    store.dispose();
  }

  /** The final LayerNorm of the cls row of x [B·N, dim] → [B, dim], as QuantViTRunner.recordHeadInput. */
  private headInput(enc: GPUCommandEncoder, x: GpuTensor, batch: number): GpuTensor {
    const c = this.model.config;
    const s = sliceCols(this.ctx, enc, { buffer: x.buffer, shape: [batch, c.tokens * c.dim] }, 0, c.dim);
    const h = layerNorm(this.ctx, enc, s, this.fp.normGamma, this.fp.normBeta, c.lnEps);
    releaseTensor(this.ctx, s);
    return h;
  }

  /** Top-1 of the partly optimised model (later blocks calibrated only) on the held-out images. */
  private async measureAccuracy(blocksDone: number, label: string): Promise<void> {
    const h = this.input.heldOut;
    if (!h || h.count < 1) return;
    if (this.skipAccuracy > 0) { this.skipAccuracy--; return; }  // measured before the interruption, with the same params
    await this.pausePoint();
    const runner = new QuantViTRunner(this.ctx, this.model, this.params);
    let correct = 0;
    try {
      const classes = this.model.config.numClasses, logits = await runner.forward(h.pixels, h.count);
      for (let i = 0; i < h.count; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
        if (best === h.labels[i]) correct++;
      }
    } finally {
      runner.dispose();
    }
    const point: AsmoAccuracyPoint = { blocksDone, label, top1: correct / h.count, images: h.count };
    this.accuracy.push(point);
    this.emit({ type: 'accuracy', point });
  }

  dispose(): void {
    for (const o of this.owned.splice(0)) o.dispose();
    this.xq?.dispose();
    this.xfp?.dispose();
    this.fp.dispose();
  }
}

function mergeShares(shares: RoundingShare[]): RoundingShare {
  const weights = shares.reduce((a, s) => a + s.weights, 0) || 1;
  return {
    weights,
    up: shares.reduce((a, s) => a + s.up * s.weights, 0) / weights,
    changed: shares.reduce((a, s) => a + s.changed * s.weights, 0) / weights,
  };
}
