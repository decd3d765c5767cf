/**
 * QuantViTRunner (GPU) against its CPU twin vitForwardQuantCpu on small importer fixtures, both attention
 * paths, W8A8 and W4A4, with MinMax parameters; ablation switches must change the computation.
 *
 * Tolerance: GPU and CPU FP32 arithmetic differ by ~1e-6 relative (f32 vs f64 sums, exp), which can move
 * an activation across a rounding boundary; one flipped code changes that value by one step Δ and the
 * logits by roughly Δ·|w| through the rest of the network. So logits are compared with an absolute
 * tolerance of a fraction of the logit range (5% at W8A8, 25% at W4A4, where Δ is 16× larger) and
 * top-1 must agree on ≥ 90% of images; most logits in fact agree to ~1e-5 (printed).
 */
import { describe, expect, it } from 'vitest';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { minMaxParams } from '../src/engine/quant/min-max.ts';
import { vitForwardQuantCpu } from '../src/engine/reference/vit-forward-quant.ts';
import { vitForwardCpu } from '../src/engine/reference/vit-forward.ts';
import { getGpu } from './helpers/gpu.ts';
import { loadFixture } from './fixtures/onnx/io.ts';
import { logitStats, randomImages } from './quant-model-helpers.ts';

const CASES = ['timm_op17_tanh_dynamic', 'deit_distilled_op17_dynamic'];
const IMAGES = 10;

describe.each(CASES)('quantized %s', (name) => {
  const model = importViT(loadFixture(name).bytes);
  const c = model.config;
  const pixels = randomImages(IMAGES, c.inChannels * c.imageSize * c.imageSize, 7);
  const calib = pixels.subarray(0, 4 * c.inChannels * c.imageSize * c.imageSize);
  const fp = vitForwardCpu(model, pixels, IMAGES);

  it.each([{ bits: 8, frac: 0.05 }, { bits: 4, frac: 0.25 }])('at $bits bits (W = A): GPU matches the CPU twin on both attention paths', async ({ bits, frac }) => {
    const ctx = await getGpu();
    const params = minMaxParams(model, calib, 4, { bitsW: bits, bitsA: bits });
    const cpu = vitForwardQuantCpu(model, JSON.parse(JSON.stringify(params)), pixels, IMAGES);  // params survive JSON
    const baseline = ctx.pool.bytesInUse;
    for (const attentionVariant of ['rows', 'workgroup'] as const) {
      const runner = new QuantViTRunner(ctx, model, params, { attentionVariant });
      const gpu = await runner.forward(pixels, IMAGES);
      runner.dispose();
      const s = logitStats(gpu, cpu, c.numClasses);
      console.log(`[quant-model] ${name} W${bits}A${bits} ${attentionVariant}: max |Δ| ${s.maxDiff.toExponential(2)}, median |Δ| ${s.medianDiff.toExponential(2)}, range ${s.range.toFixed(2)}, top-1 agree ${s.agree}/${IMAGES}`);
      expect(s.maxDiff).toBeLessThanOrEqual(frac * s.range);
      expect(s.medianDiff).toBeLessThan(1e-5);  // no flip: float noise only
      expect(s.agree).toBeGreaterThanOrEqual(0.9 * IMAGES);
    }
    expect(ctx.pool.bytesInUse).toBe(baseline);
    if (bits === 8) {
      const q = logitStats(cpu, fp, c.numClasses);
      console.log(`[quant-model] ${name} W8A8 vs FP32: max |Δ| ${q.maxDiff.toExponential(2)}, range ${q.range.toFixed(2)}, top-1 agree ${q.agree}/${IMAGES}`);
      expect(q.maxDiff).toBeLessThanOrEqual(0.1 * q.range);
    }
  });

  it('each ablation switch changes the logits (CPU twin), and the GPU follows', async () => {
    const base = minMaxParams(model, calib, 4, { bitsW: 4, bitsA: 4 });
    const ref = vitForwardQuantCpu(model, base, pixels, IMAGES);
    for (const key of ['ppoqQkv', 'ppoqFc1', 'slq', 'logProbs'] as const) {
      const p = minMaxParams(model, calib, 4, { bitsW: 4, bitsA: 4, ablation: { [key]: true } });
      const kinds = p.blocks.map((b) => [b.qkvIn.kind, b.fc1In.kind, b.fc2In.kind, b.probs.kind].join());
      expect(new Set(kinds), key).toEqual(new Set([['ppoqQkv', 'ppoqFc1', 'slq', 'logProbs'].map((k) =>
        k === key ? 'uniform' : k === 'slq' ? 'slq' : k === 'logProbs' ? 'log' : 'ppoq').join()]));
      const out = vitForwardQuantCpu(model, p, pixels, IMAGES);
      expect(logitStats(out, ref, c.numClasses).maxDiff, key).toBeGreaterThan(1e-3);
    }
    const ctx = await getGpu();
    const p = minMaxParams(model, calib, 4, { bitsW: 4, bitsA: 4, ablation: { slq: true, logProbs: true } });
    const runner = new QuantViTRunner(ctx, model, p);
    const gpu = await runner.forward(pixels, IMAGES);
    runner.dispose();
    const s = logitStats(gpu, vitForwardQuantCpu(model, p, pixels, IMAGES), c.numClasses);
    expect(s.maxDiff).toBeLessThanOrEqual(0.25 * s.range);
  });
});

