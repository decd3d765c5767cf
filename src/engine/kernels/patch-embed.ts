/** Patch embedding with prefix tokens and position embedding (shaders/vit/patch_embed.wgsl). */
import src from '../../../shaders/vit/patch_embed.wgsl?raw';
import { ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../gpu/tensor.ts';
import { defaultTiling, type MatmulTiling } from './matmul.ts';

export const patchEmbedKernel = new Kernel({
  name: 'patch_embed',
  code: src,
  bindings: [
    { name: 'image', kind: 'read' }, { name: 'weight', kind: 'read' }, { name: 'bias', kind: 'read' },
    { name: 'prefix', kind: 'read' }, { name: 'pos', kind: 'read' }, { name: 'y', kind: 'read_write' },
  ],
  params: [
    ['rows', 'u32'], ['tokens', 'u32'], ['prefix_count', 'u32'], ['dim', 'u32'], ['k_size', 'u32'],
    ['channels', 'u32'], ['height', 'u32'], ['width', 'u32'], ['patch_size', 'u32'], ['grid_w', 'u32'],
  ],
});

/**
 * Records tokens [B·N, dim] from image [B, Cin, H, W]: prefix tokens (cls[, dist]) + pos, then
 * conv(patch) + bias + pos, with weight [Cin·P·P, dim] (rows (c, ky, kx)), prefix [T, dim], pos [N, dim].
 */
export function patchEmbed(ctx: GpuContext, encoder: GPUCommandEncoder, image: GpuTensor, weight: GpuTensor,
                           bias: GpuTensor, prefix: GpuTensor, pos: GpuTensor, patch: number,
                           options: { out?: GpuTensor; tiling?: MatmulTiling } = {}): GpuTensor {
  const s = expectShape('patch_embed', 'image', image, ['B', 'Cin', 'H', 'W']);
  if (!(patch > 0) || s.H % patch !== 0 || s.W % patch !== 0) {
    throw new ShapeError(`patch_embed: image ${s.H}×${s.W} is not a whole number of ${patch}×${patch} patches.`);
  }
  const gridW = s.W / patch;
  const patches = (s.H / patch) * gridW;
  expectShape('patch_embed', 'weight', weight, [s.Cin * patch * patch, 'dim'], s);
  expectShape('patch_embed', 'bias', bias, ['dim'], s);
  expectShape('patch_embed', 'prefix', prefix, ['T', 'dim'], s);
  const tokens = s.T + patches;
  expectShape('patch_embed', 'pos', pos, [tokens, 'dim'], s);
  const y = options.out ?? allocTensor(ctx, [s.B * tokens, s.dim], 'patch_embed.y');
  expectShape('patch_embed', 'out', y, [s.B * tokens, s.dim]);
  const t = options.tiling ?? defaultTiling(ctx);
  const rowsPerGroup = (t.variant === 'rows' ? 8 : 4) * t.wgY;
  patchEmbedKernel.run(ctx, encoder, {
    entry: t.variant === 'rows' ? 'main_rows' : 'main',
    overrides: { WG_X: t.wgX, WG_Y: t.wgY, TILE_K: t.tileK },
    buffers: [image.buffer, weight.buffer, bias.buffer, prefix.buffer, pos.buffer, y.buffer],
    params: {
      rows: s.B * tokens, tokens, prefix_count: s.T, dim: s.dim, k_size: s.Cin * patch * patch,
      channels: s.Cin, height: s.H, width: s.W, patch_size: patch, grid_w: gridW,
    },
    workgroups: Math.ceil((s.B * tokens) / rowsPerGroup) * Math.ceil(s.dim / (4 * t.wgX)),
  });
  return y;
}
