/** Host-side randomness and layout for ASMO's mini-batches: seeded, so a run repeats exactly. */
import type { ViTConfig } from '../vit/description.ts';

/** mulberry32: a small, well-mixed 32-bit generator (integer maths only: identical in every JS engine); floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Module `index`'s seed for its batch draws and QDrop masks, derived from the run's seed. */
export function moduleSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * The listed images' non-overlapping patches as rows [images·P, Cin·p·p], each row in the patch-embed
 * weight's (c, ky, kx) order, so the patch embedding is a Linear layer on them.
 */
export function im2col(pixels: Float32Array, images: readonly number[], c: Pick<ViTConfig, 'inChannels' | 'imageSize' | 'patch'>): Float32Array {
  const { inChannels: ch, imageSize: s, patch: p } = c, grid = s / p, k = ch * p * p, per = ch * s * s;
  const out = new Float32Array(images.length * grid * grid * k);
  let o = 0;
  for (const img of images) {
    const base = img * per;
    for (let py = 0; py < grid; py++) {
      for (let px = 0; px < grid; px++) {
        for (let cc = 0; cc < ch; cc++) {
          for (let ky = 0; ky < p; ky++) {
            const row = base + (cc * s + py * p + ky) * s + px * p;
            out.set(pixels.subarray(row, row + p), o);
            o += p;
          }
        }
      }
    }
  }
  return out;
}
