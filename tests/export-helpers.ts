/**
 * Shared by the export tests: running an exported model in onnxruntime-node, bitwise comparisons, and
 * the demo's data (32 calibration images picked as `adfq quantize` picks them, the other 168 sample
 * images and, when Debian's dataset-fashion-mnist is installed, 2,000 test images, with labels).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { imageBytesToTensor } from '../src/engine/image/index.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { argmaxRows } from './quant-model-helpers.ts';

/**
 * onnxruntime's default optimizer turns DequantizeLinear → MatMul on constant weights into MatMulNBits
 * with accuracy_level 4, which quantizes that MatMul's float input to int8 on the fly (an extra quantizer
 * the model does not have). Level 1 keeps the float input: `exact` sessions set it.
 */
export const EXACT_SESSION: ort.InferenceSession.SessionOptions = { extra: { session: { qdq_matmulnbits_accuracy_level: '1' } } };

export async function ortRun(bytes: Uint8Array, input: Float32Array, shape: number[], exact = true, outputs?: string[]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, ...(exact ? EXACT_SESSION : {}) });
  try {
    return await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, shape) }, outputs ?? session.outputNames);
  } finally {
    await session.release();
  }
}

export async function ortLogits(bytes: Uint8Array, input: Float32Array, shape: number[], exact = true): Promise<Float32Array> {
  const r = await ortRun(bytes, input, shape, exact);
  return Object.values(r)[0].data as Float32Array;
}

/** Indices where a and b differ in their bits (NaN equals NaN). */
export function bitDiffs(a: Float32Array, b: Float32Array): number[] {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) out.push(i);
  return out;
}

/** Top-1 agreement between two logit sets and, with labels, both accuracies. */
export function agreement(a: Float32Array, b: Float32Array, classes: number, labels?: number[]) {
  const ta = argmaxRows(a, classes), tb = argmaxRows(b, classes);
  const n = ta.length;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  const acc = (t: number[]) => (labels ? t.filter((y, i) => y === labels[i]).length / n : NaN);
  return { n, agree: ta.filter((t, i) => t === tb[i]).length / n, accA: acc(ta), accB: acc(tb), maxDiff };
}

/** Canonical weights of a model by rounding-mask key ('patch', 'blocks.0.qkv', …, 'head', 'headDist'). */
export function engineWeights(m: ViTModel): Map<string, Float32Array> {
  const w = m.weights, out = new Map<string, Float32Array>([['patch', w.patchW], ['head', w.headW]]);
  if (w.headDistW) out.set('headDist', w.headDistW);
  w.blocks.forEach((b, i) => { out.set(`blocks.${i}.qkv`, b.qkvW); out.set(`blocks.${i}.proj`, b.projW); out.set(`blocks.${i}.fc1`, b.fc1W); out.set(`blocks.${i}.fc2`, b.fc2W); });
  return out;
}

// ---- The demo's data ----
const DEMO = new URL('../public/demo/', import.meta.url);
const SPEC = { resize: 28, imageSize: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
export const DEMO_PER = 3 * 28 * 28;
const FMNIST = '/usr/share/datasets/fashion-mnist';
export const hasFashionMnist = existsSync(`${FMNIST}/t10k-images-idx3-ubyte.gz`);

export const demoModelBytes = () => new Uint8Array(readFileSync(new URL('vit-fmnist-outliers.onnx', DEMO)));

/** Class index of a folder name (classes.tsv, names with '/' and ' ' as '_'). */
function classIndex(): Map<string, number> {
  const rows = readFileSync(new URL('classes.tsv', DEMO), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  return new Map(rows.map(([i, , name]) => [name.replace(/[/ ]/g, '_'), Number(i)]));
}

export interface ImageSet { pixels: Float32Array; labels: number[]; count: number }

/**
 * The 32 calibration images (round-robin over the classes, as tests/quantize-accuracy.test.ts and
 * `adfq quantize` pick them) and the other 168 sample images with their labels.
 */
export function demoSplit(): { calib: ImageSet; held: ImageSet } {
  const classes = readdirSync(new URL('images/', DEMO)).sort(), index = classIndex();
  const files = classes.map((c) => readdirSync(new URL(`images/${c}/`, DEMO)).sort().map((f) => ({ path: `images/${c}/${f}`, label: index.get(c)! })));
  const calibFiles = [0, 1, 2, 3].flatMap((i) => files.map((fs) => fs[i])).slice(0, 32);
  const heldFiles = files.flat().filter((f) => !calibFiles.includes(f));
  const load = (list: { path: string; label: number }[]): ImageSet => {
    const pixels = new Float32Array(list.length * DEMO_PER);
    list.forEach((f, i) => pixels.set(imageBytesToTensor(new Uint8Array(readFileSync(new URL(f.path, DEMO))), f.path, SPEC), i * DEMO_PER));
    return { pixels, labels: list.map((f) => f.label), count: list.length };
  };
  return { calib: load(calibFiles), held: load(heldFiles) };
}

/** The first `count` Fashion-MNIST test images, normalised like the demo's, or null when absent. */
export function fashionMnist(count: number): ImageSet | null {
  if (!hasFashionMnist) return null;
  const img = gunzipSync(readFileSync(`${FMNIST}/t10k-images-idx3-ubyte.gz`)), lab = gunzipSync(readFileSync(`${FMNIST}/t10k-labels-idx1-ubyte.gz`));
  const pixels = new Float32Array(count * DEMO_PER);
  for (let i = 0; i < count; i++) for (let p = 0; p < 784; p++) {
    const v = (img[16 + i * 784 + p] / 255 - 0.5) / 0.5;
    for (let c = 0; c < 3; c++) pixels[i * DEMO_PER + c * 784 + p] = v;
  }
  return { pixels, labels: Array.from(lab.subarray(8, 8 + count)), count };
}
