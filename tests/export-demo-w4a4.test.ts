/**
 * Issue 6: the demo exported at W4A4 (ADFQ calibration) agrees with the engine in onnxruntime-node, in every
 * format; and with AdaRound rounding masks (ASMO's output form) the file's weights are the engine's.
 */
import { expect, it } from 'vitest';
import { buildQuantizedOnnx } from '../src/engine/export/export-onnx.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { quantizeModelWeights } from '../src/engine/quant/apply-cpu.ts';
import type { ViTQuantParams } from '../src/engine/quant/params.ts';
import { packRounding } from '../src/engine/quant/weight-rounding.ts';
import { getGpu } from './helpers/gpu.ts';
import { agreement, bitDiffs, engineWeights, ortLogits } from './export-helpers.ts';
import { demoExportSuite, expectSameWeights, FORMATS } from './export-demo.cases.ts';

/** Seeded up/floor flags for a layer of `count` weights. */
function randomFlags(count: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: count }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 31));
}

demoExportSuite(4, FORMATS, (get) => {
  it('with AdaRound rounding on some layers: the file holds exactly the engine\'s weights and runs like it', async () => {
    const { model, params, held } = get();
    const w = model.weights;
    const rounding = {
      patch: packRounding(randomFlags(w.patchW.length, 1)),
      'blocks.0.fc1': packRounding(randomFlags(w.blocks[0].fc1W.length, 2)),
      'blocks.3.qkv': packRounding(randomFlags(w.blocks[3].qkvW.length, 3)),
      head: packRounding(randomFlags(w.headW.length, 4)),
    };
    const rounded: ViTQuantParams = { ...params, rounding };
    // The masks do change weights (else this test would prove nothing).
    const nearest = engineWeights(quantizeModelWeights(model, params)), withMasks = engineWeights(quantizeModelWeights(model, rounded));
    for (const key of Object.keys(rounding)) expect(bitDiffs(nearest.get(key)!, withMasks.get(key)!).length, key).toBeGreaterThan(0);
    const ctx = await getGpu();
    const runner = new QuantViTRunner(ctx, model, rounded);
    let engine: Float32Array;
    try { engine = await runner.forward(held.pixels, held.count); } finally { runner.dispose(); }
    for (const options of [{ format: 'qdq', opset: 13 }, { format: 'qdq', opset: 21, int4Weights: true }, { format: 'fake-quant-weights', opset: 13 }] as const) {
      const out = buildQuantizedOnnx(model, rounded, options);
      expectSameWeights(out.bytes, model, rounded);
      expect(out.weights.filter((r) => r.rounding === 'adaround').map((r) => r.key).sort()).toEqual(Object.keys(rounding).sort());
      const a = agreement(await ortLogits(out.bytes, held.pixels, [held.count, 3, 28, 28]), engine, 10, held.labels);
      console.log(`[export-demo] W4A4 + AdaRound masks, ${options.format} opset ${options.opset}: top-1 agreement ${(100 * a.agree).toFixed(2)}% on ${held.count} images, max |Δlogit| ${a.maxDiff.toExponential(2)}`);
      expect(a.agree).toBeGreaterThanOrEqual(0.995);
    }
  });
});
