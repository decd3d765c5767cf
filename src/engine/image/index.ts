/** The image pipeline shared by the browser and Node: decode → resize → crop → normalise. */
import { UsageError } from '../errors.ts';
import type { Preprocessing } from '../vit/description.ts';
import type { DecodeOptions } from './decode.ts';
import { decodeImage } from './decode.ts';
import { preprocessImage, type PreprocessSpec } from './transform.ts';

export type { DecodedImage } from './decoded-image.ts';
export { toChannels } from './decoded-image.ts';
export { decodeImage, detectImageFormat, DEFAULT_MAX_PIXELS, type DecodeOptions, type ImageFormat } from './decode.ts';
export { resizeBicubic } from './resample.ts';
export {
  preprocessImage, resizeAndCrop, normalizeToTensor, resizedSize, centerCropOffset, defaultResize, type PreprocessSpec,
} from './transform.ts';
export {
  NORMALIZATION_PRESETS, normalizationPreset, parseMeanStd, parseNumberList, type Normalization, type NormalizationPreset,
} from './normalization.ts';

/** Bytes of one file → model input `[channels, imageSize, imageSize]`; throws BadImageError naming `name`. */
export function imageBytesToTensor(bytes: Uint8Array, name: string, spec: PreprocessSpec, options?: DecodeOptions): Float32Array {
  return preprocessImage(decodeImage(bytes, name, options), spec);
}

/** The spec for a model: its Preprocessing (mean, std, resize), input size and channel count. */
export function preprocessSpec(p: Pick<Preprocessing, 'mean' | 'std' | 'resize'>, imageSize: number, inChannels: number): PreprocessSpec {
  if (inChannels !== 1 && inChannels !== 3) throw new UsageError(`Models with ${inChannels} input channels are not supported (only 1 or 3).`);
  return { mean: p.mean, std: p.std, resize: p.resize, imageSize, channels: inChannels };
}
