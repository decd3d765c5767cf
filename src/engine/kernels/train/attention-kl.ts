/**
 * The attention KL term of ADFQ §5.4 (softmax over the head axis, or over the key axis as spec §5.5's
 * option) and its gradient w.r.t. the quantized attention maps (shaders/train/attention_kl.wgsl).
 * Twin: reference/train/attention-kl.ts.
 */
import src from '../../../../shaders/train/attention_kl.wgsl?raw';
import { ShapeError, UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, readTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { klGroups, KL_DEFAULTS, type AttentionKlOptions, type KlAxis } from '../../reference/train/attention-kl.ts';

export const attentionKlKernel = new Kernel({
  name: 'attention_kl',
  code: src,
  bindings: [
    { name: 'scores_q', kind: 'read' }, { name: 'scores_fp', kind: 'read' },
    { name: 'grad', kind: 'read_write' }, { name: 'partials', kind: 'read_write' },
  ],
  params: [['count', 'u32'], ['len', 'u32'], ['inner', 'u32'], ['inv_temp', 'f32'], ['coef', 'f32']],
});

const WG = 64;
export { KL_DEFAULTS, type AttentionKlOptions, type KlAxis };

/**
 * Records L = weight·Σ P_q(log P_q − log P_fp)/B (softmax of A/T over `axis`: heads by default, or keys) for
 * the quantized and FP maps A_q, A_fp [B, H, N, N]: returns ∂L/∂A_q [B, H, N, N] and L as per-workgroup
 * partial sums (readAttentionKl).
 */
export function attentionKl(ctx: GpuContext, encoder: GPUCommandEncoder, scoresQ: GpuTensor, scoresFp: GpuTensor,
                            o: AttentionKlOptions & { out?: GpuTensor } = {}): { grad: GpuTensor; partials: GpuTensor } {
  const s = expectShape('attention_kl', 'scoresQ', scoresQ, ['B', 'H', 'N', 'N']);
  expectShape('attention_kl', 'scoresFp', scoresFp, ['B', 'H', 'N', 'N'], s);
  const temperature = o.temperature ?? KL_DEFAULTS.temperature, weight = o.weight ?? KL_DEFAULTS.weight, axis = o.axis ?? KL_DEFAULTS.axis;
  if (!(temperature > 0)) throw new ShapeError(`attention_kl: the temperature must be positive, not ${temperature}.`);
  if (axis !== 'heads' && axis !== 'keys') throw new UsageError(`attention_kl: axis must be 'heads' or 'keys', not ${String(axis)}.`);
  const grad = o.out ?? allocTensor(ctx, scoresQ.shape, 'attention_kl.grad');
  expectShape('attention_kl', 'out', grad, [s.B, s.H, s.N, s.N]);
  const { count, len, inner } = klGroups(s.B, s.H, s.N, axis), workgroups = Math.max(1, Math.ceil(count / WG));
  const partials = allocTensor(ctx, [workgroups], 'attention_kl.partials');
  attentionKlKernel.run(ctx, encoder, {
    overrides: { WG },
    buffers: [scoresQ.buffer, scoresFp.buffer, grad.buffer, partials.buffer],
    params: { count, len, inner, inv_temp: 1 / temperature, coef: weight / s.B },
    workgroups,
  });
  return { grad, partials };
}

/** L from attentionKl's partials (after the submit), summed in float64. */
export async function readAttentionKl(ctx: GpuContext, partials: GpuTensor): Promise<number> {
  return (await readTensor(ctx, partials)).reduce((a, v) => a + v, 0);
}
