/**
 * Which preprocessing a model gets: the user's choice, else the file's metadata, else ImageNet's
 * mean/std with a warning (nothing in a plain ONNX file says how its model was trained).
 */
import { normalizationPreset, type Normalization } from '../image/normalization.ts';
import { defaultResize, type PreprocessSpec } from '../image/transform.ts';
import type { Preprocessing, ViTConfig } from './description.ts';

export interface PreprocessingChoice {
  normalization?: Normalization | null;
  resize?: number;
}

export interface ResolvedPreprocessing {
  spec: PreprocessSpec;
  source: Preprocessing['source'];
  warning: string | null;
}

export function resolvePreprocessing(c: ViTConfig, choice: PreprocessingChoice = {}): ResolvedPreprocessing {
  const meta = c.preprocessing;
  const channels = c.inChannels === 1 ? 1 : 3;
  let norm: Normalization, source: Preprocessing['source'], warning: string | null = null;
  if (choice.normalization) { norm = choice.normalization; source = 'user'; }
  else if (meta) { norm = { mean: meta.mean, std: meta.std }; source = meta.source; }
  else {
    norm = normalizationPreset('imagenet');
    source = 'default';
    warning = 'The model file does not record its normalisation; using ImageNet mean/std. Google AugReg ViTs need 0.5/0.5 (preset "half").';
  }
  const fit = (v: number[]) => (v.length === channels ? v : new Array(channels).fill(v[0]));
  const resize = choice.resize ?? (source !== 'user' && meta ? meta.resize : defaultResize(c.imageSize));
  return { spec: { resize, imageSize: c.imageSize, mean: fit(norm.mean), std: fit(norm.std), channels }, source, warning };
}
