/**
 * Issue 6 item 2 (round trip) and item 4 (`adfq eval` on exports) on the GPU: the demo calibrated with
 * ADFQ at W4A4 on 10 sample images, exported in every format, imports back with the params it was exported
 * from (deep equal), weights that quantizeModelWeights reproduces bit for bit, and QuantViTRunner logits
 * equal to the original's bit for bit; the same with AdaRound rounding masks; Engine.loadModel exposes
 * the quantization; `adfq eval` on the exported file evaluates the quantized model.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.ts';
import { exportQuantizedOnnx, type ExportOptions } from '../src/engine/export/export-onnx.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT, importVitOrExport } from '../src/engine/onnx/import-vit.ts';
import { quantizeModelWeights } from '../src/engine/quant/apply-cpu.ts';
import { minMaxParams } from '../src/engine/quant/min-max.ts';
import type { ViTQuantParams } from '../src/engine/quant/params.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS, type QuantizeSettings } from '../src/engine/quant/quantize.ts';
import { packRounding } from '../src/engine/quant/weight-rounding.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { getGpu } from './helpers/gpu.ts';
import { bitDiffs, demoModelBytes, engineWeights } from './export-helpers.ts';
import { argmaxRows, DEMO_DIR, demoImages } from './quant-model-helpers.ts';

const FORMATS: ExportOptions[] = [{ format: 'qdq', opset: 13 }, { format: 'qdq', opset: 21, int4Weights: true }, { format: 'fake-quant-weights', opset: 17 }];
const SETTINGS: QuantizeSettings = { ...DEFAULT_QUANTIZE_SETTINGS, method: 'adfq', bitsW: 4, bitsA: 4 };
/** Images 1 and 2 of every class (image 0 of each calibrates), in demoImages' order, with their labels. */
const EVAL_FROM = 1, EVAL_PER_CLASS = 2;
const CLASSES = readdirSync(new URL('images/', DEMO_DIR)).sort();
const INDEX = new Map(readFileSync(new URL('classes.tsv', DEMO_DIR), 'utf8').trim().split('\n').map((l) => l.split('\t')).map(([i, , n]) => [n.replace(/[/ ]/g, '_'), Number(i)]));
const LABELS = CLASSES.flatMap((c) => Array<number>(EVAL_PER_CLASS).fill(INDEX.get(c)!));

/** Every ADFQ quantizer replaced by a per-tensor uniform one: the per-tensor MinMax baseline. */
const PER_TENSOR = { ppoqQkv: true, ppoqFc1: true, slq: true, logProbs: true };

const withoutRounding = ({ rounding, ...p }: ViTQuantParams) => p;

function expectSameQuantizedWeights(a: ViTModel, pa: ViTQuantParams, b: ViTModel, pb: ViTQuantParams): void {
  const wa = engineWeights(quantizeModelWeights(a, pa)), wb = engineWeights(quantizeModelWeights(b, pb));
  expect([...wa.keys()]).toEqual([...wb.keys()]);
  for (const [key, w] of wb) expect(bitDiffs(wa.get(key)!, w).length, key).toBe(0);
}

/** Seeded up/floor flags for a layer of `count` weights (as export-demo-w4a4.test.ts). */
function randomFlags(count: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: count }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 31));
}

describe('the demo exported at W4A4 (ADFQ) loads back with its quantizers and computes the same logits', () => {
  const model = importViT(demoModelBytes());
  const calib = demoImages(0, 1), pixels = demoImages(EVAL_FROM, EVAL_PER_CLASS), count = LABELS.length;
  let params: ViTQuantParams, original: Float32Array;

  const quantLogits = async (m: ViTModel, p: ViTQuantParams) => {
    const runner = new QuantViTRunner(await getGpu(), m, p);
    try { return await runner.forward(pixels, count); } finally { runner.dispose(); }
  };

  beforeAll(async () => {
    const t0 = performance.now();
    params = (await calibrate(await getGpu(), model, calib, CLASSES.length, SETTINGS)).params;
    original = await quantLogits(model, params);
    console.log(`[export-roundtrip] W4A4 ADFQ calibration on ${CLASSES.length} images + engine on ${count}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 120_000);

  it.each(FORMATS)('$format opset $opset: same params, weights and QuantViTRunner logits', async (options) => {
    const t0 = performance.now();
    const bytes = exportQuantizedOnnx(model, params, { ...options, settings: SETTINGS });
    const t1 = performance.now();
    const { model: back, quant } = importVitOrExport(bytes);
    const t2 = performance.now();
    expect(quant).not.toBeNull();
    expect(quant!.params).toEqual(params);
    expect(quant!).toMatchObject({ format: options.format, bitsW: 4, bitsA: 4, method: 'adfq', settings: SETTINGS, ambiguousColumns: 0 });
    expect(back.config.preprocessing).toEqual(model.config.preprocessing);
    expect(back.config.labels).toEqual(model.config.labels);
    expectSameQuantizedWeights(back, quant!.params, model, params);
    // The imported model's weights ARE the fake-quantized ones.
    expect(bitDiffs(back.weights.blocks[2].fc1W, quantizeModelWeights(model, params).weights.blocks[2].fc1W).length).toBe(0);
    const logits = await quantLogits(back, quant!.params);
    expect(bitDiffs(logits, original).length).toBe(0);
    console.log(`[export-roundtrip] ${options.format} opset ${options.opset}: ${bytes.length} B, export ${(t1 - t0).toFixed(0)} ms, import ${(t2 - t1).toFixed(0)} ms, weight Δ/z from the ${quant!.weightQuantizers}; logits bit-identical on ${count} images`);
  });

  it('with AdaRound rounding masks: the file\'s rounded weights come back, and so do the logits', async () => {
    const w = model.weights;
    const rounding = {
      patch: packRounding(randomFlags(w.patchW.length, 1)), 'blocks.0.fc1': packRounding(randomFlags(w.blocks[0].fc1W.length, 2)),
      'blocks.3.qkv': packRounding(randomFlags(w.blocks[3].qkvW.length, 3)), head: packRounding(randomFlags(w.headW.length, 4)),
    };
    const rounded: ViTQuantParams = { ...params, rounding };
    const nearest = engineWeights(quantizeModelWeights(model, params)), masked = engineWeights(quantizeModelWeights(model, rounded));
    for (const key of Object.keys(rounding)) expect(bitDiffs(nearest.get(key)!, masked.get(key)!).length, key).toBeGreaterThan(0);
    const expected = await quantLogits(model, rounded);
    for (const options of [FORMATS[1], FORMATS[2]]) {
      const { model: back, quant } = importVitOrExport(exportQuantizedOnnx(model, rounded, options));
      // The masks chose the rounding of the original FP32 weights; the file holds the rounded weights.
      const zeros = (p: ViTQuantParams) => [p.patchW, ...p.blocks.flatMap((b) => [b.qkvW, b.projW, b.fc1W, b.fc2W]), p.headW].flatMap((q) => q.zero);
      const differing = zeros(quant!.params).filter((z, i) => z !== zeros(params)[i]).length;
      console.log(`[export-roundtrip] AdaRound masks, ${options.format}: weight Δ/z from the ${quant!.weightQuantizers}, ${quant!.ambiguousColumns} ambiguous columns, ${differing} z differ`);
      expect(differing).toBeLessThanOrEqual(quant!.ambiguousColumns);
      expect(quant!.params).toEqual(withoutRounding(rounded));  // Δ, z from the metadata in both formats
      expect(quant!.weights.filter((l) => l.rounding === 'adaround').map((l) => l.key).sort()).toEqual(Object.keys(rounding).sort());
      expectSameQuantizedWeights(back, quant!.params, model, rounded);
      expect(bitDiffs(await quantLogits(back, quant!.params), expected).length, options.format).toBe(0);
    }
  });

  it('Engine.loadModel takes an export: engine.model holds its weights, engine.quantization its quantizers', async () => {
    const engine = await Engine.create();
    try {
      const bytes = exportQuantizedOnnx(model, params, { format: 'qdq', opset: 21, int4Weights: true, settings: SETTINGS });
      const summary = engine.loadModel(bytes);
      expect(summary).toMatchObject({ depth: model.config.depth, numClasses: 10 });
      expect(engine.quantization!.params).toEqual(params);
      expect(bitDiffs(engine.model.weights.headW, quantizeModelWeights(model, params).weights.headW).length).toBe(0);
      engine.loadModel(demoModelBytes());
      expect(engine.quantization).toBeNull();
    } finally {
      engine.dispose();
    }
  });

  // Per-tensor MinMax W4A4 collapses the demo (README), so its quantized accuracy is far from that of its weights with
  // FP32 activations: the CLI cannot match it by evaluating the weights alone.
  it.each(['adfq', 'minmax'] as const)('`adfq eval` on a %s export evaluates the quantized model: the note on stderr, the engine\'s quantized accuracy', async (method) => {
    const tmp = mkdtempSync(join(tmpdir(), 'adfq-roundtrip-'));
    const images = join(tmp, 'images');
    for (const c of CLASSES) {
      mkdirSync(join(images, c), { recursive: true });
      const dir = new URL(`images/${c}/`, DEMO_DIR);
      for (const f of readdirSync(dir).sort().slice(EVAL_FROM, EVAL_FROM + EVAL_PER_CLASS)) copyFileSync(new URL(f, dir), join(images, c, f));
    }
    const p = method === 'adfq' ? params : minMaxParams(model, calib, CLASSES.length, { bitsW: 4, bitsA: 4, ablation: PER_TENSOR });
    const file = join(tmp, 'demo.q.onnx');
    writeFileSync(file, exportQuantizedOnnx(model, p, { format: 'qdq', opset: 13, settings: { ...SETTINGS, method } }));
    const bin = new URL('../bin/adfq.mjs', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, 'eval', file, '--images', images, '--json', '--no-progress'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^adfq export: W4A4 ${method}, quantizers from the file`, 'm'));
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const right = (logits: Float32Array) => argmaxRows(logits, 10).filter((y, i) => y === LABELS[i]).length;
    const correct = right(method === 'adfq' ? original : await quantLogits(model, p));
    const fp = new ViTRunner(await getGpu(), quantizeModelWeights(model, p));
    let weightsOnly: Float32Array;
    try { weightsOnly = await fp.forward(pixels, count); } finally { fp.dispose(); }
    console.log(`[export-roundtrip] adfq eval on the ${method} export: ${j.correct1}/${j.count}; engine quantized ${correct}/${count}; FP32 activations with the same weights ${right(weightsOnly)}/${count}`);
    expect(j.count).toBe(count);
    expect(j.correct1).toBe(correct);
    if (method === 'minmax') expect(right(weightsOnly)).not.toBe(correct);
    expect(j.quantization).toMatchObject({ label: `W4A4 ${method}`, format: 'qdq', bitsW: 4, bitsA: 4, method });
  });
});
