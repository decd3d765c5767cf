/**
 * Seeded random input for the benchmark. Node and the page both call this with the same spec, so every
 * runtime sees bit-identical pixels without shipping megabytes through page.evaluate.
 */
import { mulberry32 } from '../engine/asmo/batches.ts';

export interface PixelSpec {
  seed: number;
  batch: number;
  channels: number;
  size: number;
  /** Per-channel normalisation applied to uniform [0, 1] values, as the model's preprocessing would. */
  mean: number[];
  std: number[];
}

/** [batch, channels, size, size] normalised pixels. */
export function randomPixels(spec: PixelSpec): Float32Array {
  const { batch, channels, size, mean, std } = spec;
  const plane = size * size;
  const out = new Float32Array(batch * channels * plane);
  const rand = mulberry32(spec.seed);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / plane) % channels;
    out[i] = (rand() - mean[c]) / std[c];
  }
  return out;
}
