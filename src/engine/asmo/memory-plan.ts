/**
 * What ASMO will hold on the GPU, computed before anything is allocated (no GPU code: the page shows it
 * next to the Run button). Only the two residual streams grow with the reconstruction set; attention maps
 * are recomputed per mini-batch from the FP input instead of being cached for every image (§5.2's A_fp),
 * so a DeiT-S with 1024 images stays near 1 GiB.
 */
import type { PlanShape } from '../quant/memory-plan.ts';
import type { AsmoMemoryPlan } from './settings.ts';

/** Streams up to this size stay on the GPU; above it they live in host memory and each mini-batch is uploaded. */
export const DEFAULT_STREAM_BUDGET = 1024 * 2 ** 20;

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Bytes of one optimisation step of the larger module (attention or MLP) at `batch` images. */
export function asmoStepBytes(c: PlanShape, batch: number): number {
  const t = batch * c.tokens, maps = batch * c.heads * c.tokens * c.tokens;
  // Tensors of [tokens, C], [tokens, mlp] and [B, H, N, N] alive at once in AttentionModule / MlpModule.step
  // (inputs, both forwards' traces, gradients), and per weight its FP, soft, α, Adam moments, dα and dW̃.
  const attention = 32 * t * c.dim + 6 * maps + 7 * 4 * c.dim * c.dim;
  const mlp = 12 * t * c.dim + 8 * t * c.mlpDim + 7 * 2 * c.dim * c.mlpDim;
  return 4 * Math.max(attention, mlp);
}

export function asmoMemoryPlan(c: PlanShape, images: number, batch: number, limits: { maxBufferSize: number },
                               streamBudget = DEFAULT_STREAM_BUDGET): AsmoMemoryPlan {
  const streamBytes = 2 * images * c.tokens * c.dim * 4;
  const storage = streamBytes <= streamBudget ? 'gpu' : 'host';
  const stepBytes = asmoStepBytes(c, batch);
  const weightBytes = 4 * (c.inChannels * c.patch ** 2 * c.dim + c.dim * c.numClasses + c.depth * (4 * c.dim ** 2 + 2 * c.dim * c.mlpDim));
  // FP weights, plus a second copy while the held-out slice is evaluated after each block.
  const peakBytes = (storage === 'gpu' ? streamBytes : 0) + stepBytes + 2 * weightBytes;
  const where = storage === 'gpu' ? `on the GPU (${mib(streamBytes)})` : `in host memory (${mib(streamBytes)}; ${batch}-image batches uploaded per step)`;
  const tooBig = stepBytes > limits.maxBufferSize ? ` One step's tensors exceed this GPU's ${mib(limits.maxBufferSize)} buffer limit: use a smaller batch.` : '';
  return {
    images, streamBytes, storage, stepBytes, peakBytes,
    summary: `ASMO on ${images} images: residual streams ${where}, ${mib(stepBytes)} per step at batch ${batch}, about ${mib(peakBytes)} of GPU memory at most.${tooBig}`,
  };
}
