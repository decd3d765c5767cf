/**
 * CPU twin of kernels/train/qdrop-mix.ts: QDrop input mixing (ADFQ §5.4), out[i] = xq[i] where element i is
 * kept, else xfp[i]. The keep test is integer-only, so the twin's mask equals the GPU's bit for bit:
 *   keep(i) ⇔ (h >>> 8) < round(prob·2^24),  h = lowbias32(lowbias32(i) ^ lowbias32(seed ^ lowbias32(step))).
 * Distinct steps (seed fixed) or seeds (step fixed) give distinct keys, since lowbias32 is a bijection.
 */
import { ShapeError, UsageError } from '../../errors.ts';

/** C. Wellons' lowbias32: a 32-bit integer hash with full avalanche (Math.imul wraps like WGSL's u32 ×). */
export function lowbias32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The u32 threshold of the top 24 hash bits: round(prob·2^24), 0 (never kept) .. 2^24 (always kept). */
export function qdropThreshold(prob: number): number {
  if (!(prob >= 0 && prob <= 1)) throw new UsageError(`qdrop_mix: prob must lie in [0, 1], not ${prob}.`);
  return Math.round(prob * 2 ** 24);
}

/** Checks that a step or seed is a u32 (the shader's Params field) and returns it. */
export function checkU32(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new UsageError(`qdrop_mix: ${name} must be an integer 0..2^32 − 1, not ${v}.`);
  return v;
}

/** keep(i) for every element of a tensor of `count` values. */
export function qdropMask(count: number, o: { prob: number; seed: number; step: number }): Uint8Array {
  const threshold = qdropThreshold(o.prob);
  const key = lowbias32((checkU32('seed', o.seed) ^ lowbias32(checkU32('step', o.step))) >>> 0);
  return Uint8Array.from({ length: count }, (_, i) => ((lowbias32(lowbias32(i) ^ key) >>> 8) < threshold ? 1 : 0));
}

export function qdropMixRef(xq: Float32Array, xfp: Float32Array, o: { prob: number; seed: number; step: number }): Float32Array {
  if (xq.length !== xfp.length) throw new ShapeError(`qdrop_mix: xq has ${xq.length} values, xfp ${xfp.length}.`);
  const keep = qdropMask(xq.length, o);
  return xq.map((v, i) => (keep[i] ? v : xfp[i]));
}
