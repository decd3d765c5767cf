/**
 * Data for the GPU calibration-search suites (tests/calib-gpu-*.test.ts): deterministic heavy-tailed
 * tensors in odd sizes, split into batch chunks of different sizes, uploaded as several GpuTensors.
 * The CPU twins see the same values concatenated.
 */
import type { GpuContext } from '../src/engine/gpu/device.ts';
import { releaseTensor, uploadTensor, type GpuTensor } from '../src/engine/gpu/tensor.ts';

export type Kind = 'laplace' | 't3' | 'outlier-channels' | 'lognormal' | 'neg-lognormal' | 'softmax' | 'gelu' | 'ln';

/** Deterministic values (LCG + Box–Muller); `cols` sets the channel pattern of 'outlier-channels' and 'ln'. */
export function synthetic(kind: Kind, n: number, seed: number, cols = 45): Float32Array {
  let s = seed >>> 0;
  const u = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 2 ** 32; };
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Float32Array.from({ length: n }, (_, i) => {
    const c = i % cols;
    switch (kind) {
      case 'laplace': { const v = u() - 0.5; return -Math.sign(v) * Math.log(1 - 2 * Math.abs(v)); }
      case 't3': return g() / Math.sqrt((g() ** 2 + g() ** 2 + g() ** 2) / 3);
      case 'outlier-channels': return g() * (c === 5 || c === 31 ? 20 : 1) + 0.2;
      case 'lognormal': return Math.exp(g());
      case 'neg-lognormal': return -Math.exp(1.5 * g());
      case 'softmax': return Math.exp(-12 * u()) / 40;  // probabilities: positive, most tiny
      case 'gelu': { const v = 2 * g(); return 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3))); }
      // LayerNorm-like output: unit scale, two outlier channels well past τ = 5 and 10, sparse spikes.
      case 'ln': return (c === 7 ? 14 : c === 30 ? -8 : 1) * g() + (u() < 0.002 ? 40 * (u() - 0.5) : 0);
    }
  });
}

/** Splits `data` into chunks of `sizes[k]` samples of `sample` values each (the sizes must add up). */
export function chunks(data: Float32Array, sample: number, sizes: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let at = 0;
  for (const b of sizes) { out.push(data.slice(at, at + b * sample)); at += b * sample; }
  if (at !== data.length) throw new Error('chunk sizes do not cover the data');
  return out;
}

export function upload(ctx: GpuContext, parts: readonly Float32Array[], sampleShape: readonly number[]): GpuTensor[] {
  const sample = sampleShape.reduce((a, b) => a * b, 1);
  return parts.map((p) => uploadTensor(ctx, p, [p.length / sample, ...sampleShape]));
}

export function release(ctx: GpuContext, ts: readonly GpuTensor[]): void {
  for (const t of ts) releaseTensor(ctx, t);
}

/** The next f32 above x. */
export function nextUp(x: number): number {
  const a = new Float32Array([x]), u = new Uint32Array(a.buffer);
  if (x === 0) return 2 ** -149;
  u[0] += x > 0 ? 1 : -1;
  return a[0];
}

/** |a/b − 1| (0 when equal, including both NaN or both infinite). */
export function relDiff(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  return Math.abs(a / b - 1);
}
