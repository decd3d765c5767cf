/**
 * The eval transform of timm/torchvision, reproduced rule for rule:
 * `Resize(resize)` (shorter side, PIL bicubic) → `CenterCrop(imageSize)` → `ToTensor` → `Normalize`.
 * Size and offset rounding follow torchvision's code, not a paraphrase of it, because an off-by-one
 * crop shifts every patch of a ViT.
 */
import { UsageError } from '../errors.ts';
import { toChannels, type DecodedImage } from './decoded-image.ts';
import { resizeBicubic } from './resample.ts';
// Python's round() (half to even), which torchvision's `int(round((h - crop) / 2.0))` inherits.
import { roundHalfEven } from '../reference/quant/rounding.ts';

export interface PreprocessSpec {
  /** Shorter side after resizing. */
  resize: number;
  /** Side of the square centre crop (the model's input size). */
  imageSize: number;
  /** Per-channel, applied to x/255; length 1 (broadcast) or `channels`. */
  mean: number[];
  std: number[];
  /** Model input channels: 3 (gray images replicated) or 1 (RGB converted to luma). Default 3. */
  channels?: 1 | 3;
}

/** Default `resize` for a crop ratio, as timm computes it: floor(imageSize / cropPct) (224 → 256). */
export function defaultResize(imageSize: number, cropPct = 0.875): number {
  return Math.floor(imageSize / cropPct);
}

/**
 * torchvision `_compute_resized_output_size` for `Resize(int)`: the shorter side becomes `size`, the
 * longer `int(size * long / short)` — truncated, not rounded (500x375 → 341x256).
 */
export function resizedSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}


/**
 * Top (or left) offset of torchvision's CenterCrop. Negative when the image is smaller than the crop:
 * torchvision then zero-pads by floor((crop - size) / 2) before and the rest after.
 */
export function centerCropOffset(size: number, crop: number): number {
  return crop > size ? -Math.floor((crop - size) / 2) : roundHalfEven((size - crop) / 2);
}

/** Resize (shorter side) and centre-crop to `imageSize`, still uint8; zero pixels where padded. */
export function resizeAndCrop(img: DecodedImage, resize: number, imageSize: number): DecodedImage {
  if (!(Number.isInteger(resize) && resize > 0 && Number.isInteger(imageSize) && imageSize > 0)) {
    throw new UsageError(`Resize (${resize}) and image size (${imageSize}) must be positive integers.`);
  }
  const size = resizedSize(img.width, img.height, resize);
  const r = size.width === img.width && size.height === img.height ? img : resizeBicubic(img, size.width, size.height);
  const ch = img.channels;
  const top = centerCropOffset(r.height, imageSize);
  const left = centerCropOffset(r.width, imageSize);
  const out = new Uint8Array(imageSize * imageSize * ch);
  for (let y = 0; y < imageSize; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= r.height) continue;
    for (let x = 0; x < imageSize; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= r.width) continue;
      for (let c = 0; c < ch; c++) out[(y * imageSize + x) * ch + c] = r.data[(sy * r.width + sx) * ch + c];
    }
  }
  return { width: imageSize, height: imageSize, channels: ch, data: out };
}

/**
 * uint8 HWC → float32 CHW `(x/255 - mean)/std`, with each step rounded to float32 as torch does
 * (`div(255)`, `sub_(mean)`, `div_(std)` on float32 tensors), so values match torchvision bit for bit.
 */
export function normalizeToTensor(img: DecodedImage, mean: number[], std: number[]): Float32Array {
  const ch = img.channels;
  checkMeanStd(mean, std, ch);
  const hw = img.width * img.height;
  const out = new Float32Array(ch * hw);
  for (let c = 0; c < ch; c++) {
    const m = Math.fround(mean.length === 1 ? mean[0] : mean[c]);
    const s = Math.fround(std.length === 1 ? std[0] : std[c]);
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
    for (let i = 0; i < hw; i++) out[c * hw + i] = lut[img.data[i * ch + c]];
  }
  return out;
}

function checkMeanStd(mean: number[], std: number[], channels: number): void {
  for (const [label, values] of [['mean', mean], ['std', std]] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw new UsageError(`Normalisation ${label} has ${values.length} values but the model takes ${channels} channel(s); give ${channels === 1 ? '1 value' : `1 or ${channels}`}.`);
    }
    if (values.some((v) => !Number.isFinite(v))) throw new UsageError(`Normalisation ${label} must be finite numbers, got ${values.join(',')}.`);
  }
  if (std.some((v) => v <= 0)) throw new UsageError(`Normalisation std must be positive, got ${std.join(',')}.`);
}

/** The whole eval transform: model-channel conversion, resize, crop, normalise → `[channels, S, S]`. */
export function preprocessImage(img: DecodedImage, spec: PreprocessSpec): Float32Array {
  const channels = spec.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new UsageError(`Models with ${channels} input channels are not supported (only 1 or 3).`);
  checkMeanStd(spec.mean, spec.std, channels); // before the costly resize
  const cropped = resizeAndCrop(toChannels(img, channels), spec.resize, spec.imageSize);
  return normalizeToTensor(cropped, spec.mean, spec.std);
}
