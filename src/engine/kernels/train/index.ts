/** Backward passes and losses for module-wise optimisation (shaders/train/): one wrapper per shader. */
import type { Kernel } from '../../gpu/kernel.ts';
import { attentionBackwardKernel } from './attention-backward.ts';
import { attentionKlKernel } from './attention-kl.ts';
import { geluBackwardKernel } from './gelu-backward.ts';
import { linearBackwardKernel } from './linear-backward.ts';
import { softmaxBackwardKernel } from './softmax-backward.ts';
import { adamKernel } from './adam.ts';
import { adaroundKernel } from './adaround.ts';
import { logQuantBackwardKernel } from './log-quant-backward.ts';
import { qdropMixKernel } from './qdrop-mix.ts';
import { reconLossKernel } from './recon-loss.ts';
import { sumPartialsKernel } from './sum-partials.ts';
import { uniformQuantBackwardKernel } from './uniform-quant-backward.ts';

export { attentionBackward, type AttentionBackwardOptions, type DoutRule } from './attention-backward.ts';
export { attentionKl, readAttentionKl, type AttentionKlOptions, type KlAxis } from './attention-kl.ts';
export { geluBackward, type GeluForm } from './gelu-backward.ts';
export { linearBackward, type LinearBackwardOptions, type LinearGrad, type LinearGrads } from './linear-backward.ts';
export { softmaxBackward } from './softmax-backward.ts';
export { adamStep, ADAM_DEFAULTS, type AdamOptions, type AdamState } from './adam.ts';
export { adaroundAlphaGrad, adaroundInitAlpha, adaroundWeights, type AdaRoundOptions } from './adaround.ts';
export { logQuantBackward, slqQuantBackward, type LogQuantBackwardOptions, type SlqBackwardOptions } from './log-quant-backward.ts';
export { qdropMix, type QdropMixOptions } from './qdrop-mix.ts';
export { reconLoss } from './recon-loss.ts';
export { cosineLr, roundRegSchedule, ROUND_REG_DEFAULTS, type RoundRegOptions } from './schedules.ts';
export { readPartialSum, sumPartials, type SumPartialsOptions } from './sum-partials.ts';
export { uniformQuantBackward, type UniformQuantBackwardOptions } from './uniform-quant-backward.ts';
export { gradRule, type GradientMode, type GradRule, type QuantizerRole } from '../../reference/train/quant-backward.ts';

export const TRAIN_KERNELS: readonly Kernel[] = [
  attentionBackwardKernel, attentionKlKernel, geluBackwardKernel, linearBackwardKernel, softmaxBackwardKernel,
  uniformQuantBackwardKernel, logQuantBackwardKernel, adaroundKernel, adamKernel, reconLossKernel, sumPartialsKernel,
  qdropMixKernel,
];
