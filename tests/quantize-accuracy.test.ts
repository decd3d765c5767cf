/**
 * The accuracy claims of issue 4 on the demo model, measured where they mean something: calibration on
 * 32 demo sample images, evaluation on the first 2,000 Fashion-MNIST test images (Debian's
 * dataset-fashion-mnist; 168 demo images move 0.6 points per image, too coarse for "within 1 point").
 *  - W8A8, every method: top-1 within 1 point of FP32;
 *  - W4A4: the ADFQ quantizers beat per-tensor MinMax.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageBytesToTensor } from '../src/engine/image/index.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS, type Method } from '../src/engine/quant/quantize.ts';
import { getGpu } from './helpers/gpu.ts';

const DATA = '/usr/share/datasets/fashion-mnist';
const hasData = existsSync(`${DATA}/t10k-images-idx3-ubyte.gz`);
if (!hasData) console.warn(`[quantize-accuracy] ${DATA} is absent (apt-get install dataset-fashion-mnist): skipped.`);
const DEMO = new URL('../public/demo/', import.meta.url);
const PER = 3 * 28 * 28, COUNT = 2000;

function testSet(): { pixels: Float32Array; labels: number[] } {
  const img = gunzipSync(readFileSync(`${DATA}/t10k-images-idx3-ubyte.gz`)), lab = gunzipSync(readFileSync(`${DATA}/t10k-labels-idx1-ubyte.gz`));
  const pixels = new Float32Array(COUNT * PER);
  for (let i = 0; i < COUNT; i++) for (let p = 0; p < 784; p++) {
    const v = (img[16 + i * 784 + p] / 255 - 0.5) / 0.5;
    for (let c = 0; c < 3; c++) pixels[i * PER + c * 784 + p] = v;
  }
  return { pixels, labels: Array.from(lab.subarray(8, 8 + COUNT)) };
}

/** 32 demo sample images, round-robin over the classes (as `adfq quantize` picks them). */
function calibImages(): Float32Array {
  const spec = { resize: 28, imageSize: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  const classes = readdirSync(new URL('images/', DEMO)).sort();
  const files = [0, 1, 2, 3].flatMap((i) => classes.map((c) => `images/${c}/${readdirSync(new URL(`images/${c}/`, DEMO)).sort()[i]}`)).slice(0, 32);
  const out = new Float32Array(files.length * PER);
  files.forEach((f, i) => out.set(imageBytesToTensor(new Uint8Array(readFileSync(new URL(f, DEMO))), f, spec), i * PER));
  return out;
}

const correct = (logits: Float32Array, labels: number[]) => labels.filter((y, i) => {
  let best = 0;
  for (let k = 1; k < 10; k++) if (logits[i * 10 + k] > logits[i * 10 + best]) best = k;
  return best === y;
}).length;

describe.skipIf(!hasData)('quantized demo accuracy on 2,000 Fashion-MNIST test images', () => {
  const model = importViT(new Uint8Array(readFileSync(new URL('vit-fmnist-outliers.onnx', DEMO))));
  let data: { pixels: Float32Array; labels: number[] }, calib: Float32Array, fp32 = 0;

  beforeAll(async () => {
    data = testSet();
    calib = calibImages();
    const runner = new ViTRunner(await getGpu(), model);
    fp32 = correct(await runner.forward(data.pixels, COUNT), data.labels);
    runner.dispose();
  }, 120_000);

  async function quantizedCorrect(method: Method, bits: number): Promise<number> {
    const ctx = await getGpu();
    const r = await calibrate(ctx, model, calib, 32, { ...DEFAULT_QUANTIZE_SETTINGS, method, bitsW: bits, bitsA: bits });
    const runner = new QuantViTRunner(ctx, model, r.params);
    try { return correct(await runner.forward(data.pixels, COUNT), data.labels); } finally { runner.dispose(); }
  }

  it.each(['minmax', 'percentile', 'adfq'] as Method[])('W8A8 %s: top-1 within 1 point of FP32', async (method) => {
    const q = await quantizedCorrect(method, 8);
    console.log(`[quantize-accuracy] W8A8 ${method}: ${(100 * q / COUNT).toFixed(2)}% vs FP32 ${(100 * fp32 / COUNT).toFixed(2)}%`);
    expect(Math.abs(q - fp32) / COUNT).toBeLessThanOrEqual(0.01);
  }, 300_000);

  it('W4A4: the ADFQ quantizers beat per-tensor MinMax', async () => {
    const mm = await quantizedCorrect('minmax', 4), ad = await quantizedCorrect('adfq', 4);
    console.log(`[quantize-accuracy] W4A4: FP32 ${(100 * fp32 / COUNT).toFixed(2)}%, minmax ${(100 * mm / COUNT).toFixed(2)}%, adfq ${(100 * ad / COUNT).toFixed(2)}%`);
    expect(ad).toBeGreaterThan(mm);
    expect(ad / COUNT).toBeGreaterThan(0.8);
  }, 300_000);
});
