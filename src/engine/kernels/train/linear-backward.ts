/**
 * Gradients of the Linear layer Y = X·W + b (shaders/train/linear_backward.wgsl): dX = dY·Wᵀ, dW = Xᵀ·dY,
 * db = Σ_rows dY, W in the canonical [in, out] layout. Twin: reference/train/linear-backward.ts.
 */
import src from '../../../../shaders/train/linear_backward.wgsl?raw';
import { ShapeError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, releaseTensor, type GpuTensor } from '../../gpu/tensor.ts';

export const linearBackwardKernel = new Kernel({
  name: 'linear_backward',
  code: src,
  bindings: [
    { name: 'dy', kind: 'read' }, { name: 'x', kind: 'read' }, { name: 'w', kind: 'read' },
    { name: 'dx', kind: 'read_write' }, { name: 'dw', kind: 'read_write' }, { name: 'db', kind: 'read_write' },
  ],
  params: [['m', 'u32'], ['k', 'u32'], ['n', 'u32'], ['accumulate', 'u32']],
});

const WG = 64;

export type LinearGrad = 'dx' | 'dw' | 'db';
export type LinearGrads = { [g in LinearGrad]?: GpuTensor };

export interface LinearBackwardOptions {
  /** The gradients to record; default all three (the first module's input needs no dX). */
  grads?: readonly LinearGrad[];
  /** Write into these tensors instead of fresh pooled ones. */
  out?: LinearGrads;
  /** Add to `out`'s contents instead of overwriting them (gradients summed over mini-batch chunks). */
  accumulate?: boolean;
}

/** Records the asked gradients of Y[M,N] = X[M,K]·W[K,N] + b given dY[M,N]; returns them. */
export function linearBackward(ctx: GpuContext, encoder: GPUCommandEncoder, dy: GpuTensor, x: GpuTensor, w: GpuTensor,
                               o: LinearBackwardOptions = {}): LinearGrads {
  const s = expectShape('linear_backward', 'x', x, ['M', 'K']);
  expectShape('linear_backward', 'w', w, ['K', 'N'], s);
  expectShape('linear_backward', 'dy', dy, ['M', 'N'], s);
  if (!(s.M > 0 && s.K > 0 && s.N > 0)) throw new ShapeError(`linear_backward: empty shapes (M=${s.M}, K=${s.K}, N=${s.N}).`);
  const asked = new Set<LinearGrad>(o.grads ?? ['dx', 'dw', 'db']);
  const shapes = { dx: [s.M, s.K], dw: [s.K, s.N], db: [s.N] } as const;
  const grads: LinearGrads = {};
  for (const g of asked) {
    if (o.accumulate && !o.out?.[g]) throw new ShapeError(`linear_backward: accumulating needs an existing ${g} tensor in out.`);
    const t = o.out?.[g] ?? allocTensor(ctx, shapes[g], `linear_backward.${g}`);
    expectShape('linear_backward', g, t, shapes[g]);
    grads[g] = t;
  }
  // Outputs not recorded are bound to their own one-float scratch (each entry writes only its own).
  const scratch: GpuTensor[] = [];
  const bind = (g: LinearGrad) => grads[g] ?? (scratch.push(allocTensor(ctx, [1], 'linear_backward.unused')), scratch.at(-1)!);
  const buffers = [dy.buffer, x.buffer, w.buffer, bind('dx').buffer, bind('dw').buffer, bind('db').buffer];
  const params = { m: s.M, k: s.K, n: s.N, accumulate: o.accumulate ? 1 : 0 };
  const blocks = (a: number, b: number) => Math.ceil(Math.ceil(a / 4) * Math.ceil(b / 4) / WG);
  const run = (entry: string, workgroups: number) =>
    linearBackwardKernel.run(ctx, encoder, { entry, overrides: { WG }, buffers, params, workgroups });
  if (grads.dx) run('input_grad', blocks(s.M, s.K));
  if (grads.dw) run('weight_grad', blocks(s.K, s.N));
  if (grads.db) run('bias_grad', Math.ceil(s.N / WG));
  for (const t of scratch) releaseTensor(ctx, t);
  return grads;
}
