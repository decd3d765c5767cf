/**
 * The embedded demo's accuracy on the Fashion-MNIST test set through our WebGPU engine equals
 * onnxruntime's on the same tensors (Debian's dataset-fashion-mnist; tools/ensure-system.sh installs it).
 * ADFQ_DEMO_TEST_COUNT limits the number of images for quick local runs; CI uses all 10,000.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { expect, it } from 'vitest';
import { accuracy, predictionsFromLogits } from '../src/engine/eval/metrics.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { getGpu } from './helpers/gpu.ts';

const DATA = '/usr/share/datasets/fashion-mnist';
const MODEL = new URL('../public/demo/vit-fmnist-outliers.onnx', import.meta.url);
const hasData = existsSync(`${DATA}/t10k-images-idx3-ubyte.gz`);
if (!hasData) console.warn(`[demo-accuracy] ${DATA} is absent (apt-get install dataset-fashion-mnist): skipped.`);

/** idx3 images → normalised [n, 3, 28, 28] (gray replicated, (x/255 − 0.5)/0.5, as the demo's metadata says). */
function loadTestSet(count: number): { pixels: Float32Array; labels: number[] } {
  const img = gunzipSync(readFileSync(`${DATA}/t10k-images-idx3-ubyte.gz`));
  const lab = gunzipSync(readFileSync(`${DATA}/t10k-labels-idx1-ubyte.gz`));
  const n = Math.min(count, img.readUInt32BE(4)), hw = 28 * 28;
  const pixels = new Float32Array(n * 3 * hw);
  for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) {
    const v = (img[16 + i * hw + p] / 255 - 0.5) / 0.5;
    for (let c = 0; c < 3; c++) pixels[(i * 3 + c) * hw + p] = v;
  }
  return { pixels, labels: Array.from(lab.subarray(8, 8 + n)) };
}

it.skipIf(!hasData)('demo test accuracy through our engine equals onnxruntime-node', async () => {
  const count = Number(process.env.ADFQ_DEMO_TEST_COUNT ?? 10_000);
  const { pixels, labels } = loadTestSet(count);
  const n = labels.length, per = 3 * 28 * 28, batch = 500;
  const bytes = new Uint8Array(readFileSync(MODEL));
  const runner = new ViTRunner(await getGpu(), importViT(bytes));
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const ours = new Float32Array(n * 10), ref = new Float32Array(n * 10);
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s), x = pixels.subarray(s * per, (s + b) * per);
    ours.set(await runner.forward(x, b), s * 10);
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [b, 3, 28, 28]) });
    ref.set(out[session.outputNames[0]].data as Float32Array, s * 10);
  }
  runner.dispose();
  await session.release();
  const names = labels.map((_, i) => String(i));
  const a = accuracy(predictionsFromLogits(ours, names, labels, 10));
  const b = accuracy(predictionsFromLogits(ref, names, labels, 10));
  let maxDiff = 0;
  for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - ref[i]));
  console.log(`[demo-accuracy] ${n} test images: ours top-1 ${(100 * a.top1).toFixed(2)}%, onnxruntime ${(100 * b.top1).toFixed(2)}%, max |Δlogit| ${maxDiff.toExponential(2)}`);
  expect(a.correct1).toBe(b.correct1);
  expect(a.correct5).toBe(b.correct5);
  expect(maxDiff).toBeLessThan(1e-3);
  if (n === 10_000) expect(a.top1).toBeGreaterThanOrEqual(0.88);
}, 1_800_000);
