/**
 * What ASMO learns, on the GPU: an activation quantizer's step size Δ (ActSite) and a weight's AdaRound
 * variables α (RoundedWeight), each with its Adam moments. Each object owns its tensors (dispose()).
 */
import type { GpuContext } from '../gpu/device.ts';
import { allocTensor, readTensor, releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import { logQuant, ppoqQuant, slqQuant, uniformQuant } from '../kernels/quant/index.ts';
import {
  adamStep, adaroundAlphaGrad, adaroundInitAlpha, adaroundWeights, gradRule, logQuantBackward, slqQuantBackward,
  uniformQuantBackward, type GradientMode, type QuantizerRole,
} from '../kernels/train/index.ts';
import type { RoundReg } from '../reference/train/adaround.ts';
import { divF32, roundHalfEven } from '../reference/quant/rounding.ts';
import type { ActQuant, ChannelQuant } from '../quant/params.ts';
import type { RoundingShare } from './settings.ts';

/** Δ stays positive: Adam may not push it through zero (the released code has no bound; it never needs one there). */
const DELTA_FLOOR = 1e-8;

function adamState(ctx: GpuContext, enc: GPUCommandEncoder, param: GpuTensor, label: string) {
  const bytes = param.shape.reduce((a, b) => a * b, 1) * 4;
  const m = allocTensor(ctx, param.shape, `${label}.m`), v = allocTensor(ctx, param.shape, `${label}.v`);
  enc.clearBuffer(m.buffer, 0, bytes);
  enc.clearBuffer(v.buffer, 0, bytes);
  return { param, m, v };
}

/** One activation quantizer of a module: its forward, its backward under the §5.5 rule of its role, and Δ's update. */
export class ActSite {
  readonly delta: GpuTensor;
  readonly zero: GpuTensor | null;
  private adam: { param: GpuTensor; m: GpuTensor; v: GpuTensor } | null = null;

  constructor(private readonly ctx: GpuContext, readonly q: ActQuant, private readonly bits: number, private readonly tokens: number,
              readonly role: QuantizerRole, label: string) {
    const deltas = q.kind === 'ppoq' ? q.delta : [q.delta];
    this.delta = uploadTensor(ctx, Float32Array.from(deltas), [deltas.length], `${label}.delta`);
    const zeros = q.kind === 'ppoq' ? q.zero : q.kind === 'uniform' ? [q.zero] : null;
    this.zero = zeros ? uploadTensor(ctx, Float32Array.from(zeros), [zeros.length], `${label}.zero`) : null;
  }

  /** Records x̂ with the current Δ (a new tensor). */
  forward(enc: GPUCommandEncoder, x: GpuTensor): GpuTensor {
    const { ctx, q, bits } = this;
    switch (q.kind) {
      case 'uniform': return uniformQuant(ctx, enc, x, { bits, granularity: 'tensor', delta: this.delta, zero: this.zero! }).y;
      case 'ppoq': {
        const r = ppoqQuant(ctx, enc, x, { bits, tau: q.tau, delta: this.delta, zero: this.zero!, tokens: this.tokens });
        releaseTensor(ctx, r.outliers);
        return r.y;
      }
      case 'log': return logQuant(ctx, enc, x, { bits, delta: this.delta, base: q.base }).y;
      case 'slq': return slqQuant(ctx, enc, x, { bits, delta: this.delta, base: q.base, shift: q.shift }).y;
    }
  }

  /** Records ∂L/∂x (null when the rule passes none) and ∂L/∂Δ from dy = ∂L/∂x̂. */
  backward(enc: GPUCommandEncoder, x: GpuTensor, dy: GpuTensor, mode: GradientMode): { dx: GpuTensor | null; ddelta: GpuTensor } {
    const { ctx, q, bits } = this, rule = gradRule(mode, this.role), dx = rule.x === 'ste';
    switch (q.kind) {
      case 'uniform': return uniformQuantBackward(ctx, enc, x, dy, { bits, granularity: 'tensor', delta: this.delta, zero: this.zero!, rule, dx });
      case 'ppoq': return uniformQuantBackward(ctx, enc, x, dy, { bits, granularity: 'token', tokens: this.tokens, tau: q.tau, delta: this.delta, zero: this.zero!, rule, dx });
      case 'log': return logQuantBackward(ctx, enc, x, dy, { bits, delta: this.delta, base: q.base, rule, dx });
      case 'slq': return slqQuantBackward(ctx, enc, x, dy, { bits, delta: this.delta, base: q.base, shift: q.shift, rule, dx });
    }
  }

  /** Records Adam step `step` (1-based) on Δ. */
  update(enc: GPUCommandEncoder, ddelta: GpuTensor, step: number, lr: number): void {
    // Created in the first step's recording but owned by the site: never released by that step's pool.guard().
    this.adam ??= this.ctx.pool.unguarded(() => adamState(this.ctx, enc, this.delta, 'site'));
    adamStep(this.ctx, enc, this.adam, ddelta, { step, lr, lower: DELTA_FLOOR });
  }

  /** The quantizer with the learned Δ. */
  async read(): Promise<ActQuant> {
    const d = Array.from(await readTensor(this.ctx, this.delta));
    return this.q.kind === 'ppoq' ? { ...this.q, delta: d } : { ...this.q, delta: d[0] };
  }

  dispose(): void {
    for (const t of [this.delta, this.zero, this.adam?.m, this.adam?.v]) if (t) releaseTensor(this.ctx, t);
  }
}

/** A Linear weight [in, out] under AdaRound: α initialised at the fractional parts, soft weights, ∂L/∂α, Adam. */
export class RoundedWeight {
  readonly alpha: GpuTensor;
  private readonly delta: GpuTensor;
  private readonly zero: GpuTensor;
  private readonly adam: { param: GpuTensor; m: GpuTensor; v: GpuTensor };

  /** w: the FP weight on the GPU (not owned); host: the same values, for the rounding shares. */
  constructor(private readonly ctx: GpuContext, enc: GPUCommandEncoder, readonly w: GpuTensor, private readonly host: Float32Array,
              readonly q: ChannelQuant, private readonly bits: number, label: string) {
    this.delta = uploadTensor(ctx, Float32Array.from(q.delta), [q.delta.length], `${label}.dw`);
    this.zero = uploadTensor(ctx, Float32Array.from(q.zero), [q.zero.length], `${label}.zw`);
    this.alpha = adaroundInitAlpha(ctx, enc, w, this.options());
    this.adam = adamState(ctx, enc, this.alpha, label);
  }

  private options() {
    return { bits: this.bits, delta: this.delta, zero: this.zero };
  }

  /** Records W̃ (soft rounding) as a new tensor. */
  soft(enc: GPUCommandEncoder): GpuTensor {
    return adaroundWeights(this.ctx, enc, this.w, this.alpha, this.options());
  }

  /** Records ∂L/∂α from ∂L/∂W̃ (null: only the regulariser) plus the regulariser; partials hold L_round. */
  grad(enc: GPUCommandEncoder, dsoft: GpuTensor | null, reg: RoundReg): { dalpha: GpuTensor; partials: GpuTensor } {
    let zeros: GpuTensor | null = null;
    if (!dsoft) {
      zeros = allocTensor(this.ctx, this.w.shape, 'adaround.dsoft0');
      enc.clearBuffer(zeros.buffer, 0, this.host.length * 4);
    }
    const r = adaroundAlphaGrad(this.ctx, enc, this.w, this.alpha, dsoft ?? zeros!, { ...this.options(), reg });
    if (zeros) releaseTensor(this.ctx, zeros);
    return r;
  }

  update(enc: GPUCommandEncoder, dalpha: GpuTensor, step: number, lr: number): void {
    adamStep(this.ctx, enc, this.adam, dalpha, { step, lr });
  }

  /** The hardened choice per weight (1 = floor + 1) and how it compares with nearest rounding. */
  async hardened(): Promise<{ up: Uint8Array; share: RoundingShare }> {
    const alpha = await readTensor(this.ctx, this.alpha), cols = this.q.delta.length;
    const up = Uint8Array.from(alpha, (a) => (a >= 0 ? 1 : 0));
    let ups = 0, changed = 0;
    for (let i = 0; i < up.length; i++) {
      const u = divF32(this.host[i], this.q.delta[i % cols]);
      const nearestUp = roundHalfEven(u) > Math.floor(u) ? 1 : 0;
      ups += up[i];
      if (up[i] !== nearestUp) changed++;
    }
    return { up, share: { weights: up.length, up: ups / up.length, changed: changed / up.length } };
  }

  dispose(): void {
    for (const t of [this.delta, this.zero, this.alpha, this.adam.m, this.adam.v]) releaseTensor(this.ctx, t);
  }
}
