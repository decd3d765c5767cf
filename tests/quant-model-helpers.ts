/** Shared helpers of the quant-model tests: deterministic inputs, the demo's sample images, logit comparisons. */
import { readdirSync, readFileSync } from 'node:fs';
import { imageBytesToTensor } from '../src/engine/image/index.ts';

export const DEMO_DIR = new URL('../public/demo/', import.meta.url);
const DEMO_SPEC = { resize: 28, imageSize: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const DEMO_PER = 3 * 28 * 28;

/** `perClass` demo sample images of every class folder starting at index `from`, as normalised pixels. */
export function demoImages(from: number, perClass: number): Float32Array {
  const classes = readdirSync(new URL('images/', DEMO_DIR)).sort();
  const files = classes.flatMap((c) => readdirSync(new URL(`images/${c}/`, DEMO_DIR)).sort().slice(from, from + perClass).map((f) => `images/${c}/${f}`));
  const pixels = new Float32Array(files.length * DEMO_PER);
  files.forEach((f, i) => pixels.set(imageBytesToTensor(new Uint8Array(readFileSync(new URL(f, DEMO_DIR))), f, DEMO_SPEC), i * DEMO_PER));
  return pixels;
}

/** Deterministic pseudo-normal pixels (Box–Muller over an LCG), roughly like normalised images. */
export function randomImages(count: number, per: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  return Float32Array.from({ length: count * per }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

export function argmaxRows(logits: ArrayLike<number>, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, b) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[b * classes + c] > logits[b * classes + best]) best = c;
    return best;
  });
}

/** Max and median |a − b|, the range of b, and how many rows share their argmax. */
export function logitStats(a: ArrayLike<number>, b: ArrayLike<number>, classes: number) {
  const d = Array.from(a, (v, i) => Math.abs(v - b[i])).sort((x, y) => x - y);
  const ta = argmaxRows(a, classes), tb = argmaxRows(b, classes);
  return {
    maxDiff: d[d.length - 1], medianDiff: d[d.length >> 1],
    range: Math.max(...Array.from(b)) - Math.min(...Array.from(b)),
    agree: ta.filter((t, i) => t === tb[i]).length,
  };
}
