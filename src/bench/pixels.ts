/**
 * Seeded random input for the benchmark. Node and the page both call this with the same spec, so every
 * runtime sees bit-identical pixels without shipping megabytes through page.evaluate.
 */
export interface PixelSpec {
  seed: number;
  batch: number;
  channels: number;
  size: number;
  /** Per-channel normalisation applied to uniform [0, 1] values, as the model's preprocessing would. */
  mean: number[];
  std: number[];
}

/** mulberry32: tiny, and identical in every JS engine (integer maths only). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
