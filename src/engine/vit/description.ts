/**
 * The typed ViT description that the ONNX importer produces and every engine part consumes.
 * Weights are stored in the engine's canonical layouts (below), whatever layout the ONNX file used.
 */

export type ExportStyle = 'timm' | 'huggingface' | 'deit-distilled';
export type GeluKind = 'erf' | 'tanh';

export interface Preprocessing {
  /** Per-channel mean and std applied after scaling pixels to [0, 1]. */
  mean: number[];
  std: number[];
  /** Shorter side is resized to this (bicubic, antialiased), then a centre crop of `imageSize`. */
  resize: number;
  /** Where the values came from: ONNX metadata, a preset, or a default guess. */
  source: 'metadata' | 'preset' | 'default' | 'user';
}

export interface ViTConfig {
  style: ExportStyle;
  imageSize: number;      // square input, H = W
  patch: number;          // patch size (conv kernel = stride)
  inChannels: number;
  dim: number;            // embedding width C
  depth: number;          // number of blocks
  heads: number;
  mlpDim: number;
  numClasses: number;
  /** Prefix tokens before the patches: 1 (cls) or 2 (cls + distillation). */
  prefixTokens: number;
  /** Total tokens N = prefixTokens + (imageSize / patch)^2. */
  tokens: number;
  lnEps: number;
  gelu: GeluKind;
  /** Input batch size fixed by the file, or null when dynamic. */
  fixedBatch: number | null;
  inputName: string;
  outputName: string;
  /** Class labels from metadata when the file has them (index order). */
  labels: string[] | null;
  preprocessing: Preprocessing | null;
}

/**
 * Canonical weight layouts (row-major Float32Array):
 * - linear weights `[in, out]` (x·W), biases `[out]`;
 * - patch-embed weight `[inChannels*patch*patch, dim]` with the row index (c, ky, kx) in that order;
 * - qkv fused `[dim, 3*dim]` with output columns q (heads×headDim), then k, then v;
 * - posEmbed `[tokens, dim]`, prefix tokens `[prefixTokens, dim]` (cls first, then dist).
 */
export interface BlockWeights {
  ln1Gamma: Float32Array; ln1Beta: Float32Array;
  qkvW: Float32Array; qkvB: Float32Array;
  projW: Float32Array; projB: Float32Array;
  ln2Gamma: Float32Array; ln2Beta: Float32Array;
  fc1W: Float32Array; fc1B: Float32Array;
  fc2W: Float32Array; fc2B: Float32Array;
}

export interface ViTWeights {
  patchW: Float32Array; patchB: Float32Array;
  prefix: Float32Array;
  posEmbed: Float32Array;
  blocks: BlockWeights[];
  normGamma: Float32Array; normBeta: Float32Array;
  /** Head `[dim, numClasses]`; DeiT-distilled models have a second head averaged with the first. */
  headW: Float32Array; headB: Float32Array;
  headDistW: Float32Array | null; headDistB: Float32Array | null;
}

export interface ViTModel {
  config: ViTConfig;
  weights: ViTWeights;
  /** Where each canonical weight came from in the ONNX file (initializer names), for reports and export. */
  sources: Record<string, string>;
}

export function parameterCount(model: ViTModel): number {
  const w = model.weights;
  let n = w.patchW.length + w.patchB.length + w.prefix.length + w.posEmbed.length;
  n += w.normGamma.length + w.normBeta.length + w.headW.length + w.headB.length;
  n += (w.headDistW?.length ?? 0) + (w.headDistB?.length ?? 0);
  for (const b of w.blocks) for (const t of Object.values(b)) n += (t as Float32Array).length;
  return n;
}
