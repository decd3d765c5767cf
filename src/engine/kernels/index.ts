/**
 * The flat table of GPU kernels: one wrapper per shaders/vit/<name>.wgsl here and per shaders/<area>/<name>.wgsl
 * in stats/, quant/, calib/ and train/ (checked by tests/kernels-bindings.test.ts).
 */
import type { Kernel } from '../gpu/kernel.ts';
import { addKernel } from './add.ts';
import { attentionKernel } from './attention.ts';
import { layerNormKernel } from './layer-norm.ts';
import { matmulKernel } from './matmul.ts';
import { patchEmbedKernel } from './patch-embed.ts';
import { poolHeadKernel } from './pool-head.ts';
import { sliceColsKernel } from './slice-cols.ts';
import { QUANT_KERNELS } from './quant/index.ts';
import { STATS_KERNELS } from './stats/index.ts';
import { CALIB_KERNELS } from './calib/index.ts';
import { TRAIN_KERNELS } from './train/index.ts';

export { add } from './add.ts';
export { attention, type AttentionOptions } from './attention.ts';
export { layerNorm } from './layer-norm.ts';
export { matmul, type Epilogue, type MatmulOptions, type MatmulTiling } from './matmul.ts';
export { patchEmbed } from './patch-embed.ts';
export { poolHead, type PoolHeadOptions } from './pool-head.ts';
export { sliceCols } from './slice-cols.ts';
export * from './stats/index.ts';
export * from './quant/index.ts';
export * from './calib/index.ts';
export * from './train/index.ts';

export const ALL_KERNELS: readonly Kernel[] = [
  addKernel, attentionKernel, layerNormKernel, matmulKernel, patchEmbedKernel, poolHeadKernel, sliceColsKernel, ...STATS_KERNELS, ...QUANT_KERNELS, ...CALIB_KERNELS, ...TRAIN_KERNELS,
];
