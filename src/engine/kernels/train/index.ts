/** Backward passes and losses for module-wise optimisation (shaders/train/): one wrapper per shader. */
import type { Kernel } from '../../gpu/kernel.ts';
import { attentionBackwardKernel } from './attention-backward.ts';
import { attentionKlKernel } from './attention-kl.ts';
import { geluBackwardKernel } from './gelu-backward.ts';
import { linearBackwardKernel } from './linear-backward.ts';
import { softmaxBackwardKernel } from './softmax-backward.ts';

export { attentionBackward, type AttentionBackwardOptions } from './attention-backward.ts';
export { attentionKl, readAttentionKl, type AttentionKlOptions } from './attention-kl.ts';
export { geluBackward, type GeluForm } from './gelu-backward.ts';
export { linearBackward, type LinearBackwardOptions, type LinearGrad, type LinearGrads } from './linear-backward.ts';
export { softmaxBackward } from './softmax-backward.ts';

export const TRAIN_KERNELS: readonly Kernel[] = [
  attentionBackwardKernel, attentionKlKernel, geluBackwardKernel, linearBackwardKernel, softmaxBackwardKernel,
];
