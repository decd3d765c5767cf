/**
 * ASMO's modules as trainable objects (ADFQ §5.3-5.5): each holds its learned quantizer sites and AdaRound
 * weights, records one optimisation step (forward with soft weights, the losses into a GPU history,
 * backward under the gradient mode's rules, Adam), and hands its results back as plain params.
 */
import type { GpuContext } from '../gpu/device.ts';
import { allocTensor, numel, type GpuTensor } from '../gpu/tensor.ts';
import {
  attentionBackward, attentionKl, cosineLr, geluBackward, gradRule, linearBackward, qdropMix, reconLoss, roundRegSchedule,
  sumPartials, uniformQuantBackward,
} from '../kernels/train/index.ts';
import { qkvChannelParams } from '../quant/apply-cpu.ts';
import { gpuChannelQuantizer, type GpuQuantParams } from '../quant/gpu-quantizers.ts';
import type { ActQuant, BlockQuantParams, ChannelQuant } from '../quant/params.ts';
import { UsageError } from '../errors.ts';
import { attentionForward, linearForward, mlpForward, releaseAll, type AttentionWeights, type LinearWeights, type MlpWeights } from './forward.ts';
import type { AsmoSettings } from './settings.ts';
import { ActSite, RoundedWeight } from './trainable.ts';

/** Per step: the module's inputs in the quantized and the FP model ([images·rows, C]; the same tensor when they coincide). */
export interface StepInput { xq: GpuTensor; xfp: GpuTensor; images: number }

export interface StepContext {
  step: number;
  settings: AsmoSettings;
  /** [iters, 3]: rec, round, attn per step, zeroed at the start. */
  history: GpuTensor;
  /** The QDrop hash's seed for this module. */
  mixSeed: number;
}

export interface TrainableModule {
  readonly sites: readonly ActSite[];
  readonly weights: readonly RoundedWeight[];
  step(enc: GPUCommandEncoder, input: StepInput, t: StepContext): void;
  dispose(): void;
}

/** QDrop (§5.4): each element from the quantized model's input with probability p, else from the FP model's. */
function mixInputs(ctx: GpuContext, enc: GPUCommandEncoder, input: StepInput, t: StepContext): GpuTensor {
  if (input.xq === input.xfp) return input.xq;
  return qdropMix(ctx, enc, input.xq, input.xfp, { prob: t.settings.dropProb, seed: t.mixSeed, step: t.step });
}

/** The step's loss terms into history[3·step + (0 rec, 1 round, 2 attn)]. */
function recordLosses(ctx: GpuContext, enc: GPUCommandEncoder, t: StepContext, rec: GpuTensor, round: GpuTensor[], attn?: GpuTensor): void {
  sumPartials(ctx, enc, rec, { out: t.history, offset: 3 * t.step });
  round.forEach((p, i) => sumPartials(ctx, enc, p, { out: t.history, offset: 3 * t.step + 1, accumulate: i > 0 }));
  if (attn) sumPartials(ctx, enc, attn, { out: t.history, offset: 3 * t.step + 2 });
}

function roundReg(t: StepContext) {
  const s = t.settings;
  return roundRegSchedule(t.step, s.iters, { weight: s.roundWeight, warmup: s.warmup, betaStart: s.betaStart, betaEnd: s.betaEnd });
}

/** Adam on every α (constant lr) and every learned Δ (cosine lr); Δ without a gradient this step is left alone. */
function updateAll(enc: GPUCommandEncoder, t: StepContext, weights: [RoundedWeight, GpuTensor][], sites: [ActSite, GpuTensor | null][]): void {
  const s = t.settings, lrSteps = cosineLr(t.step, s.iters, s.lrSteps);
  for (const [w, g] of weights) w.update(enc, g, t.step + 1, s.lrWeights);
  for (const [site, g] of sites) if (g) site.update(enc, g, t.step + 1, lrSteps);
}

function zeros(ctx: GpuContext, enc: GPUCommandEncoder, shape: readonly number[], label: string): GpuTensor {
  const z = allocTensor(ctx, shape, label);
  enc.clearBuffer(z.buffer, 0, numel(shape) * 4);
  return z;
}

export interface ModuleSetup {
  ctx: GpuContext;
  enc: GPUCommandEncoder;
  bitsW: number;
  bitsA: number;
  tokens: number;
  label: string;
}

/** A weight under AdaRound from its FP tensor, host copy and quantizer. */
const rounded = (s: ModuleSetup, w: GpuTensor, host: Float32Array, q: ChannelQuant, name: string) =>
  new RoundedWeight(s.ctx, s.enc, w, host, q, s.bitsW, `${s.label}.${name}`);

/** The patch embedding (on im2col patches) or a head (on its input row): input quantizer + Linear. */
export class LinearModule implements TrainableModule {
  readonly sites: ActSite[];
  readonly weights: RoundedWeight[];
  constructor(private readonly s: ModuleSetup, private readonly fp: LinearWeights, host: Float32Array, wq: ChannelQuant, inQ: ActQuant) {
    this.sites = [new ActSite(s.ctx, inQ, s.bitsA, 1, 'uniform-input', `${s.label}.in`)];
    this.weights = [rounded(s, fp.w, host, wq, 'w')];
  }

  step(enc: GPUCommandEncoder, input: StepInput, t: StepContext): void {
    const ctx = this.s.ctx, [site] = this.sites, [weight] = this.weights, mode = t.settings.gradients;
    const xin = mixInputs(ctx, enc, input, t);
    const target = linearForward(ctx, enc, input.xfp, this.fp, null, { batch: input.images }).y;
    const soft = weight.soft(enc);
    const q = linearForward(ctx, enc, xin, { w: soft, b: this.fp.b }, (e, x) => site.forward(e, x), { batch: input.images, trace: true });
    const rec = reconLoss(ctx, enc, q.y, target, { batch: input.images });
    const lin = linearBackward(ctx, enc, rec.grad, q.trace!.xHat, soft, { grads: ['dx', 'dw'] });
    const back = site.backward(enc, xin, lin.dx!, mode);
    const g = weight.grad(enc, lin.dw!, roundReg(t));
    recordLosses(ctx, enc, t, rec.partials, [g.partials]);
    updateAll(enc, t, [[weight, g.dalpha]], [[site, back.ddelta]]);
    releaseAll(ctx, [input.xq, input.xfp], [xin, target, soft, q.y, q.trace!.xHat, rec.grad, rec.partials, lin.dx, lin.dw,
      back.dx ?? undefined, back.ddelta, g.dalpha, g.partials]);
  }

  dispose(): void {
    for (const x of [...this.sites, ...this.weights]) x.dispose();
  }
}

/** A block's attention branch: LN1 output → qkv → attention → proj (§5.1). */
export class AttentionModule implements TrainableModule {
  readonly sites: ActSite[];
  readonly weights: RoundedWeight[];
  private readonly probs: ActSite;
  private readonly qkvChannel: { delta: GpuTensor; zero: GpuTensor };
  private readonly qkvQuant: (enc: GPUCommandEncoder, x: GpuTensor) => GpuTensor;

  constructor(private readonly s: ModuleSetup, private readonly fp: AttentionWeights, host: { qkvW: Float32Array; projW: Float32Array },
              q: BlockQuantParams, store: GpuQuantParams, private readonly heads: number, private readonly variant?: 'workgroup' | 'rows') {
    this.sites = [new ActSite(s.ctx, q.qkvIn, s.bitsA, s.tokens, q.qkvIn.kind === 'ppoq' ? 'ppoq' : 'uniform-input', `${s.label}.qkv-in`),
      new ActSite(s.ctx, q.projIn, s.bitsA, s.tokens, 'uniform-input', `${s.label}.proj-in`)];
    this.probs = new ActSite(s.ctx, q.probs, s.bitsA, s.tokens, 'softmax', `${s.label}.probs`);
    this.weights = [rounded(s, fp.qkvW, host.qkvW, q.qkvW, 'qkv'), rounded(s, fp.projW, host.projW, q.projW, 'proj')];
    const ch = qkvChannelParams(q, fp.projW.shape[0]);
    this.qkvChannel = { delta: store.upload(ch.delta, `${s.label}.qkv.delta`), zero: store.upload(ch.zero, `${s.label}.qkv.zero`) };
    this.qkvQuant = gpuChannelQuantizer(s.ctx, store, ch, s.bitsA, `${s.label}.qkv`);
  }

  step(enc: GPUCommandEncoder, input: StepInput, t: StepContext): void {
    const ctx = this.s.ctx, [inSite, projSite] = this.sites, [qkvW, projW] = this.weights, mode = t.settings.gradients;
    const batch = input.images, fwd = { batch, heads: this.heads, variant: this.variant, trace: true };
    if (this.probs.q.kind !== 'log' && mode !== 'default') {
      throw new UsageError("The 'ste-lsq' gradient mode needs the log√2 probability quantizer; it cannot run with the uniform-probabilities ablation.");
    }
    const xin = mixInputs(ctx, enc, input, t);
    const fp = attentionForward(ctx, enc, input.xfp, this.fp, null, fwd);
    const soft = { ...this.fp, qkvW: qkvW.soft(enc), projW: projW.soft(enc) };
    const quant = { qkvIn: (e: GPUCommandEncoder, x: GpuTensor) => inSite.forward(e, x), qkv: this.qkvQuant,
      probs: (e: GPUCommandEncoder, x: GpuTensor) => this.probs.forward(e, x), projIn: (e: GPUCommandEncoder, x: GpuTensor) => projSite.forward(e, x) };
    const q = attentionForward(ctx, enc, xin, soft, quant, fwd), tr = q.trace!;
    const rec = reconLoss(ctx, enc, q.y, fp.y, { batch });
    const kl = attentionKl(ctx, enc, tr.probs, fp.trace!.probs, { temperature: t.settings.klTemperature, weight: t.settings.klWeight, axis: t.settings.klAxis });
    // proj, its input quantizer, attention (the probability quantizer's rule decides what dO reaches P), q/k/v STE, qkv, PPOQ.
    const lp = linearBackward(ctx, enc, rec.grad, tr.oHat, soft.projW, { grads: ['dx', 'dw'] });
    const bp = projSite.backward(enc, tr.o, lp.dx!, mode);
    const dout = bp.dx ?? zeros(ctx, enc, tr.o.shape, 'asmo.dout0');
    const ab = attentionBackward(ctx, enc, tr.qkvHat, tr.probs, dout, {
      batch, heads: this.heads, dprobs: kl.grad, probsHat: tr.probsHat,
      doutRule: gradRule(mode, 'softmax').x === 'ste' ? 'ste' : 'none',
      probsQuant: this.probs.q.kind === 'log' ? { delta: this.probs.delta, bits: this.s.bitsA, base: this.probs.q.base } : undefined,
    });
    const dqkv = uniformQuantBackward(ctx, enc, tr.qkv, ab.dqkv, {
      bits: this.s.bitsA, granularity: 'channel', delta: this.qkvChannel.delta, zero: this.qkvChannel.zero, rule: gradRule(mode, 'qkv'),
    });
    const lq = linearBackward(ctx, enc, dqkv.dx!, tr.xHat, soft.qkvW, { grads: ['dx', 'dw'] });
    const bq = inSite.backward(enc, xin, lq.dx!, mode);
    const reg = roundReg(t), gq = qkvW.grad(enc, lq.dw!, reg), gp = projW.grad(enc, lp.dw!, reg);
    recordLosses(ctx, enc, t, rec.partials, [gq.partials, gp.partials], kl.partials);
    updateAll(enc, t, [[qkvW, gq.dalpha], [projW, gp.dalpha]], [[inSite, bq.ddelta], [projSite, bp.ddelta]]);
    releaseAll(ctx, [input.xq, input.xfp], [xin, fp.y, ...Object.values(fp.trace!), soft.qkvW, soft.projW, q.y, ...Object.values(tr),
      rec.grad, rec.partials, kl.grad, kl.partials, lp.dx, lp.dw, bp.dx ?? undefined, bp.ddelta, dout, ab.dqkv, dqkv.dx ?? undefined, dqkv.ddelta,
      lq.dx, lq.dw, bq.dx ?? undefined, bq.ddelta, gq.dalpha, gq.partials, gp.dalpha, gp.partials]);
  }

  dispose(): void {
    for (const x of [...this.sites, this.probs, ...this.weights]) x.dispose();
  }
}

/** A block's MLP branch: LN2 output → fc1 → GELU → fc2 (§5.1). */
export class MlpModule implements TrainableModule {
  readonly sites: ActSite[];
  readonly weights: RoundedWeight[];

  constructor(private readonly s: ModuleSetup, private readonly fp: MlpWeights, host: { fc1W: Float32Array; fc2W: Float32Array },
              q: BlockQuantParams, private readonly gelu: 'gelu-erf' | 'gelu-tanh') {
    this.sites = [new ActSite(s.ctx, q.fc1In, s.bitsA, s.tokens, q.fc1In.kind === 'ppoq' ? 'ppoq' : 'uniform-input', `${s.label}.fc1-in`),
      new ActSite(s.ctx, q.fc2In, s.bitsA, s.tokens, q.fc2In.kind === 'slq' ? 'slq' : 'uniform-input', `${s.label}.fc2-in`)];
    this.weights = [rounded(s, fp.fc1W, host.fc1W, q.fc1W, 'fc1'), rounded(s, fp.fc2W, host.fc2W, q.fc2W, 'fc2')];
  }

  step(enc: GPUCommandEncoder, input: StepInput, t: StepContext): void {
    const ctx = this.s.ctx, [in1, in2] = this.sites, [fc1W, fc2W] = this.weights, mode = t.settings.gradients;
    const batch = input.images, ste = mode !== 'default';
    const xin = mixInputs(ctx, enc, input, t);
    const target = mlpForward(ctx, enc, input.xfp, this.fp, null, { batch, gelu: this.gelu }).y;
    const soft = { ...this.fp, fc1W: fc1W.soft(enc), fc2W: fc2W.soft(enc) };
    const quant = { fc1In: (e: GPUCommandEncoder, x: GpuTensor) => in1.forward(e, x), fc2In: (e: GPUCommandEncoder, x: GpuTensor) => in2.forward(e, x) };
    const q = mlpForward(ctx, enc, xin, soft, quant, { batch, gelu: this.gelu, trace: true, preActivation: ste }), tr = q.trace!;
    const rec = reconLoss(ctx, enc, q.y, target, { batch });
    const l2 = linearBackward(ctx, enc, rec.grad, tr.gHat, soft.fc2W, { grads: ['dx', 'dw'] });
    const b2 = in2.backward(enc, tr.g, l2.dx!, mode);
    // Default mode: SLQ passes no gradient to GELU's output, so fc1 sees only the rounding regulariser.
    const dh = b2.dx ? geluBackward(ctx, enc, tr.h!, b2.dx, this.gelu) : null;
    const l1 = dh ? linearBackward(ctx, enc, dh, tr.xHat, soft.fc1W, { grads: ['dx', 'dw'] }) : null;
    const b1 = l1 ? in1.backward(enc, xin, l1.dx!, mode) : null;
    const reg = roundReg(t), g1 = fc1W.grad(enc, l1?.dw ?? null, reg), g2 = fc2W.grad(enc, l2.dw!, reg);
    recordLosses(ctx, enc, t, rec.partials, [g1.partials, g2.partials]);
    updateAll(enc, t, [[fc1W, g1.dalpha], [fc2W, g2.dalpha]], [[in1, b1?.ddelta ?? null], [in2, b2.ddelta]]);
    releaseAll(ctx, [input.xq, input.xfp], [xin, target, soft.fc1W, soft.fc2W, q.y, ...Object.values(tr), rec.grad, rec.partials,
      l2.dx, l2.dw, b2.dx ?? undefined, b2.ddelta, dh ?? undefined, l1?.dx, l1?.dw, b1?.dx ?? undefined, b1?.ddelta,
      g1.dalpha, g1.partials, g2.dalpha, g2.partials]);
  }

  dispose(): void {
    for (const x of [...this.sites, ...this.weights]) x.dispose();
  }
}

