/**
 * The embedded demo (vit-fmnist-outliers, 28×28×3) quantized with MinMax parameters: GPU vs CPU twin on
 * a few of its sample images at W8A8 and W4A4, and W8A8 top-1 on 50 sample images within 2 of FP32.
 * Tolerances as in quant-model-fixtures.test.ts (a flipped activation code moves logits by ~Δ·|w|).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { minMaxParams } from '../src/engine/quant/min-max.ts';
import { vitForwardQuantCpu } from '../src/engine/reference/vit-forward-quant.ts';
import { getGpu } from './helpers/gpu.ts';
import { argmaxRows, DEMO_DIR, demoImages, logitStats } from './quant-model-helpers.ts';

const model = importViT(new Uint8Array(readFileSync(new URL('vit-fmnist-outliers.onnx', DEMO_DIR))));
const PER = 3 * 28 * 28;


const calib = demoImages(15, 1);           // 10 images, disjoint from the evaluated ones
const evalSet = demoImages(0, 5);          // 50 images
const classes = model.config.numClasses;

it.each([{ bits: 8, frac: 0.05 }, { bits: 6, frac: 0.15 }, { bits: 4, frac: 0.25 }])('demo at $bits bits (W = A): GPU matches the CPU twin', async ({ bits, frac }) => {
  const ctx = await getGpu();
  const params = minMaxParams(model, calib, 10, { bitsW: bits, bitsA: bits });
  const n = 10, x = evalSet.subarray(0, n * PER);
  const runner = new QuantViTRunner(ctx, model, params);
  const gpu = await runner.forward(x, n);
  runner.dispose();
  const s = logitStats(gpu, vitForwardQuantCpu(model, params, x, n), classes);
  console.log(`[quant-model] demo W${bits}A${bits}: max |Δ| ${s.maxDiff.toExponential(2)}, median |Δ| ${s.medianDiff.toExponential(2)}, range ${s.range.toFixed(2)}, top-1 agree ${s.agree}/${n}`);
  expect(s.maxDiff).toBeLessThanOrEqual(frac * s.range);
  expect(s.medianDiff).toBeLessThan(1e-4);
  expect(s.agree).toBeGreaterThanOrEqual(0.9 * n);
}, 60_000);

it('demo W8A8 top-1 on 50 sample images is within 2 images of FP32', async () => {
  const ctx = await getGpu();
  const n = evalSet.length / PER;
  // Folder names are classes.tsv's names with '/' and ' ' as '_'; folders are read in sorted order.
  const names = readFileSync(new URL('classes.tsv', DEMO_DIR), 'utf8').trim().split('\n').map((l) => l.split('\t')[2].replace(/[/ ]/g, '_'));
  const folders = readdirSync(new URL('images/', DEMO_DIR)).sort();
  const labels = Array.from({ length: n }, (_, i) => names.indexOf(folders[Math.floor(i / 5)]));
  expect(labels.every((l) => l >= 0)).toBe(true);
  const fpRunner = new ViTRunner(ctx, model);
  const fp = await fpRunner.forward(evalSet, n);
  fpRunner.dispose();
  const runner = new QuantViTRunner(ctx, model, minMaxParams(model, calib, 10, { bitsW: 8, bitsA: 8 }));
  const q = await runner.forward(evalSet, n);
  runner.dispose();
  const fpTop = argmaxRows(fp, classes), qTop = argmaxRows(q, classes);
  const agree = fpTop.filter((t, i) => t === qTop[i]).length;
  console.log(`[quant-model] demo 50 images: FP32 ${fpTop.filter((t, i) => t === labels[i]).length} correct, W8A8 ${qTop.filter((t, i) => t === labels[i]).length}; top-1 agreement ${agree}/${n}`);
  expect(Math.abs(fpTop.filter((t, i) => t === labels[i]).length - qTop.filter((t, i) => t === labels[i]).length)).toBeLessThanOrEqual(2);
  expect(agree).toBeGreaterThanOrEqual(n - 2);
}, 60_000);
