/**
 * The demo export check shared by export-demo-w4a4 and export-demo-w8a8 (one bit width per file keeps each
 * under two minutes on lavapipe): calibrate ADFQ on the 32 demo calibration images, evaluate the quantized
 * engine (QuantViTRunner) on the other 168 sample images plus 2,000 Fashion-MNIST test images when
 * present, export in each format, run the file in onnxruntime-node, and compare top-1 and accuracy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildQuantizedOnnx, type ExportOptions } from '../src/engine/export/export-onnx.ts';
import { checkGraph } from '../src/engine/export/check-graph.ts';
import { readExportedWeights } from '../src/engine/export/read-export.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { quantizeModelWeights } from '../src/engine/quant/apply-cpu.ts';
import type { ViTQuantParams } from '../src/engine/quant/params.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS, type QuantizeSettings } from '../src/engine/quant/quantize.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { getGpu } from './helpers/gpu.ts';
import { agreement, bitDiffs, DEMO_PER, demoModelBytes, demoSplit, engineWeights, fashionMnist, ortLogits, type ImageSet } from './export-helpers.ts';

export const FORMATS: (ExportOptions & { label: string })[] = [
  { label: 'qdq opset 13 (int8 weights)', format: 'qdq', opset: 13 },
  { label: 'qdq opset 21 (int4 weights when b_w ≤ 4)', format: 'qdq', opset: 21, int4Weights: true },
  { label: 'fake-quant-weights opset 17', format: 'fake-quant-weights', opset: 17 },
];

/** Every weight of the file dequantizes to quantizeModelWeights' value bit for bit. */
export function expectSameWeights(bytes: Uint8Array, model: ViTModel, params: ViTQuantParams): void {
  const file = readExportedWeights(bytes), engine = engineWeights(quantizeModelWeights(model, params));
  expect([...file.keys()].sort()).toEqual([...engine.keys()].sort());
  for (const [key, w] of engine) expect(bitDiffs(file.get(key)!, w).length, key).toBe(0);
}

export function concatSets(sets: (ImageSet | null)[]): ImageSet {
  const present = sets.filter((s): s is ImageSet => s !== null);
  const count = present.reduce((a, s) => a + s.count, 0), pixels = new Float32Array(count * DEMO_PER);
  let at = 0;
  for (const s of present) { pixels.set(s.pixels, at * DEMO_PER); at += s.count; }
  return { pixels, labels: present.flatMap((s) => s.labels), count };
}

export function demoExportSuite(bits: number, formats: typeof FORMATS, extra?: (get: () => { model: ViTModel; params: ViTQuantParams; held: ImageSet }) => void): void {
  describe(`the demo exported at W${bits}A${bits} (ADFQ) runs in onnxruntime like the engine`, () => {
    const model = importViT(demoModelBytes());
    const split = demoSplit();
    const evalSet = concatSets([split.held, fashionMnist(2000)]);
    const shape = [evalSet.count, 3, 28, 28];
    const settings: QuantizeSettings = { ...DEFAULT_QUANTIZE_SETTINGS, method: 'adfq', bitsW: bits, bitsA: bits };
    let params: ViTQuantParams, engine: Float32Array;

    beforeAll(async () => {
      const ctx = await getGpu();
      const t0 = performance.now();
      params = (await calibrate(ctx, model, split.calib.pixels, split.calib.count, settings)).params;
      const t1 = performance.now();
      const runner = new QuantViTRunner(ctx, model, params);
      try { engine = await runner.forward(evalSet.pixels, evalSet.count); } finally { runner.dispose(); }
      console.log(`[export-demo] W${bits}A${bits}: calibration ${((t1 - t0) / 1000).toFixed(1)} s, engine on ${evalSet.count} images ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    }, 240_000);

    it.each(formats)('$label: checks, exact weights, same top-1 on ≥ 99.5% and accuracy within 0.2 points', async ({ label, ...options }) => {
      const t0 = performance.now();
      const out = buildQuantizedOnnx(model, params, { ...options, settings });
      expect(checkGraph(out.bytes)).toEqual([]);
      expectSameWeights(out.bytes, model, params);
      const t1 = performance.now();
      const exact = agreement(await ortLogits(out.bytes, evalSet.pixels, shape), engine, 10, evalSet.labels);
      const t2 = performance.now();
      const byDefault = agreement(await ortLogits(out.bytes, evalSet.pixels, shape, false), engine, 10, evalSet.labels);
      const pct = (v: number) => (100 * v).toFixed(2);
      console.log(`[export-demo] W${bits}A${bits} ${label}: ${out.bytes.length} B (${JSON.stringify(out.summary.storage)}), export ${((t1 - t0) / 1000).toFixed(1)} s, ort ${((t2 - t1) / 1000).toFixed(1)} s; `
        + `${evalSet.count} images: top-1 agreement ${pct(exact.agree)}%, accuracy ort ${pct(exact.accA)}% vs engine ${pct(exact.accB)}%, max |Δlogit| ${exact.maxDiff.toExponential(2)}; `
        + `ort default session (MatMulNBits accuracy level 4): agreement ${pct(byDefault.agree)}%, accuracy ${pct(byDefault.accA)}%`);
      expect(exact.agree).toBeGreaterThanOrEqual(0.995);
      expect(Math.abs(exact.accA - exact.accB)).toBeLessThanOrEqual(0.002 + 1e-9);
    });

    extra?.(() => ({ model, params, held: split.held }));
  });
}
