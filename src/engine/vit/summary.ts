/** A plain summary of a ViT description, for the UI, the CLI's `inspect` and reports. */
import { activationBytesPerImage } from '../model/memory.ts';
import { parameterCount, type ViTModel } from './description.ts';

export interface ModelSummary {
  family: string;
  style: string;
  imageSize: number;
  patch: number;
  inChannels: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
  numClasses: number;
  tokens: number;
  prefixTokens: number;
  gelu: string;
  lnEps: number;
  fixedBatch: number | null;
  parameters: number;
  /** FP32 weights on the GPU. */
  weightBytes: number;
  /** GPU scratch for one image in flight (two blocks' activations). */
  activationBytesPerImage: number;
  hasLabels: boolean;
  preprocessing: ViTModel['config']['preprocessing'];
}

export function summarize(model: ViTModel): ModelSummary {
  const c = model.config;
  const parameters = parameterCount(model);
  const family = c.prefixTokens === 2 ? 'DeiT (distilled)' : c.style === 'huggingface' ? 'ViT (Hugging Face)' : 'ViT/DeiT (timm)';
  return {
    family, style: c.style, imageSize: c.imageSize, patch: c.patch, inChannels: c.inChannels, dim: c.dim,
    depth: c.depth, heads: c.heads, mlpDim: c.mlpDim, numClasses: c.numClasses, tokens: c.tokens,
    prefixTokens: c.prefixTokens, gelu: c.gelu, lnEps: c.lnEps, fixedBatch: c.fixedBatch, parameters,
    weightBytes: parameters * 4, activationBytesPerImage: 2 * activationBytesPerImage(c).block,
    hasLabels: c.labels !== null, preprocessing: c.preprocessing,
  };
}
