/** Final LayerNorm on the prefix token(s) + classifier head(s) → logits (shaders/vit/pool_head.wgsl). */
import src from '../../../shaders/vit/pool_head.wgsl?raw';
import { ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../gpu/tensor.ts';

export const poolHeadKernel = new Kernel({
  name: 'pool_head',
  code: src,
  bindings: [
    { name: 'x', kind: 'read' }, { name: 'gamma', kind: 'read' }, { name: 'beta', kind: 'read' },
    { name: 'w', kind: 'read' }, { name: 'bias', kind: 'read' }, { name: 'w_dist', kind: 'read' },
    { name: 'bias_dist', kind: 'read' }, { name: 'logits', kind: 'read_write' },
  ],
  params: [['batch', 'u32'], ['tokens', 'u32'], ['dim', 'u32'], ['classes', 'u32'], ['take', 'u32'], ['eps', 'f32']],
});

const WG = 256;

export interface PoolHeadOptions {
  batch: number;
  eps: number;
  /** DeiT-distilled: second head on token 1, logits averaged with the first. */
  dist?: { w: GpuTensor; bias: GpuTensor };
  out?: GpuTensor;
}

/** Records logits [B, classes] from tokens x [B·N, dim], norm gamma/beta [dim], head w [dim, classes], bias [classes]. */
export function poolHead(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, gamma: GpuTensor, beta: GpuTensor,
                         w: GpuTensor, bias: GpuTensor, o: PoolHeadOptions): GpuTensor {
  const s = expectShape('pool_head', 'x', x, ['rows', 'dim']);
  if (!(o.batch > 0) || s.rows % o.batch !== 0) throw new ShapeError(`pool_head: ${s.rows} token rows do not split into batch ${o.batch}.`);
  const tokens = s.rows / o.batch;
  const take = o.dist ? 2 : 1;
  if (tokens < take) throw new ShapeError(`pool_head: ${tokens} tokens per image, need ${take} prefix token(s).`);
  expectShape('pool_head', 'gamma', gamma, ['dim'], s);
  expectShape('pool_head', 'beta', beta, ['dim'], s);
  expectShape('pool_head', 'w', w, ['dim', 'classes'], s);
  expectShape('pool_head', 'bias', bias, ['classes'], s);
  if (o.dist) {
    expectShape('pool_head', 'dist.w', o.dist.w, ['dim', 'classes'], s);
    expectShape('pool_head', 'dist.bias', o.dist.bias, ['classes'], s);
  }
  const logits = o.out ?? allocTensor(ctx, [o.batch, s.classes], 'pool_head.logits');
  expectShape('pool_head', 'out', logits, [o.batch, s.classes]);
  const maxDim = Math.max(256, 2 ** Math.ceil(Math.log2(s.dim)));  // shared-memory size class, not a shape key
  if (2 * maxDim * 4 + WG * 4 > ctx.limits.maxComputeWorkgroupStorageSize) {
    throw new ShapeError(`pool_head: width ${s.dim} needs more workgroup memory than this GPU offers.`);
  }
  poolHeadKernel.run(ctx, encoder, {
    overrides: { WG, MAX_DIM: maxDim },
    buffers: [x.buffer, gamma.buffer, beta.buffer, w.buffer, bias.buffer,
      (o.dist?.w ?? w).buffer, (o.dist?.bias ?? bias).buffer, logits.buffer],
    params: { batch: o.batch, tokens, dim: s.dim, classes: s.classes, take, eps: o.eps },
    workgroups: o.batch * Math.ceil(s.classes / WG),
  });
  return logits;
}
