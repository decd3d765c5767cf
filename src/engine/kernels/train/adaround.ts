/**
 * AdaRound's soft rounding of a canonical [in, out] Linear weight (shaders/train/adaround.wgsl): α's
 * initialisation, the soft and hardened weights, and ∂L/∂α (with the rounding regulariser, whose value
 * comes back as per-workgroup partials). Twin: reference/train/adaround.ts.
 */
import src from '../../../../shaders/train/adaround.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, numel, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';
import type { RoundReg } from '../../reference/train/adaround.ts';
import { checkBits } from '../quant/uniform-quant.ts';

export const adaroundKernel = new Kernel({
  name: 'adaround',
  code: src,
  libs: [exactDivision],
  bindings: [{ name: 'w', kind: 'read' }, { name: 'delta', kind: 'read' }, { name: 'zero', kind: 'read' }, { name: 'dsoft', kind: 'read' },
    { name: 'alpha', kind: 'read_write' }, { name: 'out', kind: 'read_write' }, { name: 'dalpha', kind: 'read_write' },
    { name: 'partials', kind: 'read_write' }],
  params: [['count', 'u32'], ['cols', 'u32'], ['levels', 'u32'], ['coef', 'f32'], ['beta', 'f32'], ['reg', 'u32']],
});

const WG = 256;

export interface AdaRoundOptions {
  bits: number;
  /** Δw, zw per output column: [out] of the [in, out] weight (fixed during the optimisation). */
  delta: GpuTensor;
  zero: GpuTensor;
}

type Entry = 'init_alpha' | 'soft_weights' | 'hard_weights' | 'alpha_grad';

function record(ctx: GpuContext, encoder: GPUCommandEncoder, entry: Entry, w: GpuTensor, o: AdaRoundOptions,
                io: { alpha: GpuTensor; dsoft?: GpuTensor; out?: GpuTensor; dalpha?: GpuTensor; partials?: GpuTensor; reg?: RoundReg }): void {
  const name = `adaround.${entry}`;
  const levels = checkBits(name, o.bits, 16);
  const s = expectShape(name, 'w', w, ['K', 'N']);
  if (!(s.K > 0 && s.N > 0)) throw new ShapeError(`${name}: w is empty.`);
  expectShape(name, 'delta', o.delta, [s.N]);
  expectShape(name, 'zero', o.zero, [s.N]);
  for (const [k, t] of [['alpha', io.alpha], ['dsoft', io.dsoft], ['out', io.out], ['dalpha', io.dalpha]] as const) {
    if (t) expectShape(name, k, t, [s.K, s.N]);
  }
  const count = s.K * s.N, groups = Math.ceil(count / WG);
  const scratch: GpuTensor[] = [];
  const bind = (t: GpuTensor | undefined) => (t ?? (scratch.push(allocTensor(ctx, [1], 'adaround.unused')), scratch.at(-1)!)).buffer;
  const reg = io.reg && io.reg.coef !== 0 ? io.reg : null;
  if (reg && !(reg.beta >= 1 && Number.isFinite(reg.beta))) throw new ShapeError(`${name}: β must be a finite number ≥ 1, not ${reg.beta}.`);
  adaroundKernel.run(ctx, encoder, {
    entry, overrides: { WG },
    buffers: [w.buffer, o.delta.buffer, o.zero.buffer, (io.dsoft ?? w).buffer, io.alpha.buffer, bind(io.out), bind(io.dalpha), bind(io.partials)],
    params: { count, cols: s.N, levels, coef: reg?.coef ?? 0, beta: reg?.beta ?? 1, reg: reg ? 1 : 0 },
    workgroups: groups,
  });
  for (const t of scratch) releaseTensor(ctx, t);
}

/** Records α with h(α) = frac(W/Δw) (into `out` when given); returns it. */
export function adaroundInitAlpha(ctx: GpuContext, encoder: GPUCommandEncoder, w: GpuTensor, o: AdaRoundOptions & { out?: GpuTensor }): GpuTensor {
  const alpha = o.out ?? allocTensor(ctx, w.shape, 'adaround.alpha');
  record(ctx, encoder, 'init_alpha', w, o, { alpha });
  return alpha;
}

/** Records the soft weights W̃ (hard: the hardened floor + [α ≥ 0] weights) for the matmul; returns them. */
export function adaroundWeights(ctx: GpuContext, encoder: GPUCommandEncoder, w: GpuTensor, alpha: GpuTensor,
                                o: AdaRoundOptions & { hard?: boolean; out?: GpuTensor }): GpuTensor {
  const out = o.out ?? allocTensor(ctx, w.shape, o.hard ? 'adaround.hard' : 'adaround.soft');
  record(ctx, encoder, o.hard ? 'hard_weights' : 'soft_weights', w, o, { alpha, out });
  return out;
}

/**
 * Records ∂L/∂α from dsoft = ∂L/∂W̃, plus the rounding regulariser's gradient when reg.coef ≠ 0 (see
 * roundRegSchedule); partials [ceil(count/256)] hold L_round per workgroup (zeros without it).
 */
export function adaroundAlphaGrad(ctx: GpuContext, encoder: GPUCommandEncoder, w: GpuTensor, alpha: GpuTensor, dsoft: GpuTensor,
                                  o: AdaRoundOptions & { reg?: RoundReg; out?: GpuTensor }): { dalpha: GpuTensor; partials: GpuTensor } {
  const dalpha = o.out ?? allocTensor(ctx, w.shape, 'adaround.dalpha');
  const partials = allocTensor(ctx, [Math.ceil(numel(w.shape) / WG)], 'adaround.partials');
  record(ctx, encoder, 'alpha_grad', w, o, { alpha, dsoft, dalpha, partials, reg: o.reg });
  return { dalpha, partials };
}
