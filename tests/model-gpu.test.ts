/**
 * The whole FP32 model on our WGSL kernels against independent oracles: PyTorch logits stored with the
 * importer fixtures, onnxruntime-node on the same ONNX file, and the real ImageNet ViT-Ti when present.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageBytesToTensor } from '../src/engine/image/index.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { compareClose } from './helpers/all-close.ts';
import { getGpu } from './helpers/gpu.ts';
import { FIXTURE_DIR, loadFixture, runOrt } from './fixtures/onnx/io.ts';

const VIT_FIXTURES = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.io.json') && !f.startsWith('cnn'))
  .map((f) => f.replace('.io.json', ''));
const SHARED = new URL('../../shared/fixtures/imagenet/', import.meta.url);
const VIT_TI = new URL('vit_tiny_patch16_224.onnx', SHARED);
const hasShared = existsSync(VIT_TI);
if (!hasShared) console.warn(`[model-gpu] ${VIT_TI.pathname} is absent: the ImageNet ViT-Ti checks are skipped.`);

function argmaxRows(logits: Float32Array, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, b) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[b * classes + c] > logits[b * classes + best]) best = c;
    return best;
  });
}

describe('GPU forward pass', () => {
  it.each(VIT_FIXTURES)('%s matches PyTorch and onnxruntime', async (name) => {
    const ctx = await getGpu();
    const f = loadFixture(name);
    const model = importViT(f.bytes);
    const runner = new ViTRunner(ctx, model);
    const ours = await runner.forward(f.input, f.inputShape[0]);
    runner.dispose();
    const torchCheck = compareClose(ours, f.logits, { atol: 1e-4, rtol: 1e-4 });
    expect(torchCheck.ok, torchCheck.message).toBe(true);
    const ort = await runOrt(f.bytes, model.config.inputName, f.input, f.inputShape);
    const ortCheck = compareClose(ours, ort, { atol: 1e-4, rtol: 1e-4 });
    expect(ortCheck.ok, ortCheck.message).toBe(true);
  });

  it('gives the same logits when the batch is split into chunks, and returns every byte to the pool', async () => {
    const ctx = await getGpu();
    const f = loadFixture(VIT_FIXTURES.find((n) => n.includes('dynamic'))!);
    const model = importViT(f.bytes);
    const baseline = ctx.pool.bytesInUse;
    const whole = new ViTRunner(ctx, model);
    const expected = await whole.forward(f.input, f.inputShape[0]);
    whole.dispose();
    // A budget of one image per chunk forces one chunk per image.
    const chunked = new ViTRunner(ctx, model, 1);
    expect(() => chunked.maxChunk()).toThrow(/GPU scratch memory/);
    chunked.dispose();
    const perImage = new ViTRunner(ctx, model, 2 * 1024 * 1024);
    expect(perImage.maxChunk()).toBeGreaterThanOrEqual(1);
    const actual = await perImage.forward(f.input, f.inputShape[0]);
    perImage.dispose();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    expect(ctx.pool.bytesInUse).toBe(baseline);
  });

  it.skipIf(!hasShared)('ImageNet ViT-Ti on real images matches onnxruntime (max |Δlogit| ≤ 1e-3, same top-1)', async () => {
    const ctx = await getGpu();
    const bytes = new Uint8Array(readFileSync(VIT_TI));
    const model = importViT(bytes);
    const files = readdirSync(new URL('images/', SHARED)).sort().slice(0, 3);
    const spec = { resize: 256, imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const per = 3 * 224 * 224;
    const pixels = new Float32Array(files.length * per);
    files.forEach((f, i) => pixels.set(imageBytesToTensor(new Uint8Array(readFileSync(new URL(`images/${f}`, SHARED))), f, spec), i * per));
    const runner = new ViTRunner(ctx, model);
    const ours = await runner.forward(pixels, files.length);
    runner.dispose();
    const ort = await runOrt(bytes, model.config.inputName, pixels, [files.length, 3, 224, 224]);
    let maxDiff = 0;
    for (let i = 0; i < ort.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - ort[i]));
    console.log(`[model-gpu] ViT-Ti, ${files.length} images: max |Δlogit| vs onnxruntime = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
    expect(argmaxRows(ours, 1000)).toEqual(argmaxRows(ort, 1000));
  });
});
