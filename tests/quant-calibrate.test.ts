/**
 * The calibration driver (quant/calibrate-gpu.ts): every activation quantizer is fitted on the inputs it
 * sees in the QUANTIZED model (all earlier quantizers in place, ADFQ.md §5.2). Checked by re-fitting each
 * site with the CPU searches on the inputs the CPU twin of the quantized forward (vitForwardQuantCpu)
 * gives with the final parameters: a site's input depends only on earlier quantizers, so the two must
 * agree. Plus the memory plan, cancellation and buffer ownership.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gridSearchHistogram } from '../src/engine/calibration/grid-search-histogram.ts';
import { percentileMsePerToken, SLQ_EPS } from '../src/engine/calibration/per-group.ts';
import { percentileMseLogSqrt2, percentileMseUniform } from '../src/engine/calibration/percentile-mse.ts';
import { CancelledError } from '../src/engine/errors.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrationMemoryPlan } from '../src/engine/quant/calibrate-gpu.ts';
import type { ActQuant } from '../src/engine/quant/params.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/quantize.ts';
import { headInputsCpu, QUANT_BLOCK_SITES, siteName, siteQuantizer } from '../src/engine/quant/sites.ts';
import { vitForwardQuantCpu } from '../src/engine/reference/vit-forward-quant.ts';
import type { SiteKind } from '../src/engine/stats/types.ts';
import type { ViTConfig } from '../src/engine/vit/description.ts';
import { getGpu } from './helpers/gpu.ts';
import { DEMO_DIR, demoImages } from './quant-model-helpers.ts';

const model = importViT(new Uint8Array(readFileSync(new URL('vit-fmnist-outliers.onnx', DEMO_DIR))));


const N = 10, pixels = demoImages(0, 1);

/** Δ of a fitted quantizer, per token for PPOQ. */
const deltas = (q: ActQuant): number[] => (q.kind === 'ppoq' ? q.delta : [q.delta]);

/** The CPU search of ADFQ.md §1 for one block site, on its input x. */
function refit(kind: SiteKind, x: Float32Array, q: ActQuant, bits: number): number[] {
  const c = model.config;
  switch (kind) {
    case 'qkv-in': case 'fc1-in': return percentileMsePerToken(x, [N, c.tokens, c.dim], kind === 'qkv-in' ? 5 : 10, bits).tokens.map((t) => t.delta);
    case 'q': case 'k': case 'v': return [gridSearchHistogram(x, bits, { bins: 65536 }).delta];
    case 'attn-probs': return [percentileMseLogSqrt2(x, bits).delta];
    case 'fc2-in': return [percentileMseLogSqrt2(x.map((v) => Math.fround(Math.fround(v - (q as { shift: number }).shift) + SLQ_EPS)), bits).delta];
    default: return [percentileMseUniform(x, bits).delta];
  }
}

describe('calibration on the quantized model', () => {
  it('W4A4 adfq: every site is fitted on its input in the quantized model (CPU searches)', async () => {
    const ctx = await getGpu();
    const bits = 4, settings = { ...DEFAULT_QUANTIZE_SETTINGS, bitsW: bits, bitsA: bits };
    const r = await calibrate(ctx, model, pixels, N, settings, {}, { search: 'cpu' });
    const inputs = new Map<string, Float32Array>();
    let lastOut: Float32Array | null = null;
    vitForwardQuantCpu(model, r.params, pixels, N, (block, kind, data) => {
      if (kind === 'block-out') lastOut = data; else inputs.set(siteName({ block, kind: kind as 'q' }), data);
    });
    // GPU and CPU forwards differ by float rounding (~1e-6 relative), which moves the quantiles (and so Δ)
    // by as much. Measured: median 1.4e-7, max 2.1e-6 relative over 242 Δ.
    const rel: number[] = [];
    // The GPU searches choose what the CPU searches choose on the same activations.
    const g = await calibrate(ctx, model, pixels, N, settings);
    expect(g.backend).toBe('gpu');
    const gpuRel: number[] = [];
    for (const { site } of r.sites) {
      const a = deltas(siteQuantizer(r.params, site)!), b = deltas(siteQuantizer(g.params, site)!);
      expect(siteQuantizer(g.params, site)!.kind, siteName(site)).toBe(siteQuantizer(r.params, site)!.kind);
      a.forEach((d, i) => gpuRel.push(Math.abs(d - b[i]) / Math.abs(d)));
    }
    expect(Math.max(...gpuRel)).toBeLessThanOrEqual(1e-6);
    expect(g.params.blocks[2].qkvW).toEqual(r.params.blocks[2].qkvW);
    for (let block = 0; block < model.config.depth; block++) {
      for (const kind of QUANT_BLOCK_SITES) {
        const q = siteQuantizer(r.params, { block, kind })!;
        const want = refit(kind, inputs.get(siteName({ block, kind }))!, q, bits), got = deltas(q);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => rel.push(Math.abs(g - want[i]) / Math.abs(want[i])));
      }
    }
    const head = headInputsCpu(model, lastOut!, N);
    rel.push(Math.abs((r.params.headIn.delta - percentileMseUniform(head, bits).delta) / r.params.headIn.delta));
    rel.push(Math.abs((r.params.patchIn.delta - percentileMseUniform(pixels, bits).delta) / r.params.patchIn.delta));
    rel.sort((a, b) => a - b);
    console.log(`[calibrate] ${rel.length} Δ: median rel diff ${rel[rel.length >> 1].toExponential(2)}, 95% ${rel[Math.floor(rel.length * 0.95)].toExponential(2)}, max ${rel[rel.length - 1].toExponential(2)}`);
    expect(rel[Math.floor(rel.length * 0.9)]).toBeLessThan(1e-5);
    expect(rel[rel.length - 1]).toBeLessThan(1e-4);
    // Every site has a report; PPOQ sites say how many values passed through.
    expect(r.sites.length).toBe(2 + model.config.depth * QUANT_BLOCK_SITES.length);
    for (const s of r.sites) {
      expect(s.mse).toBeGreaterThanOrEqual(0);
      expect(s.quantizer === 'ppoq').toBe(s.outlierFraction !== null);
    }
    const ppoqOut = r.sites.filter((s) => s.quantizer === 'ppoq').map((s) => s.outlierFraction!);
    expect(Math.max(...ppoqOut)).toBeGreaterThan(0);   // the demo's outlier channels
    expect(Math.max(...ppoqOut)).toBeLessThan(0.1);
  }, 400_000);

  it('cancelling stops between sites and releases every buffer it took', async () => {
    const ctx = await getGpu();
    await ctx.pool.settle();
    const before = ctx.pool.bytesInUse, abort = new AbortController();
    const run = calibrate(ctx, model, pixels, N, { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' }, {
      signal: abort.signal, onProgress: (done) => { if (done === 5) abort.abort(); },
    }, { search: 'cpu' });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await ctx.pool.settle();
    expect(ctx.pool.bytesInUse).toBe(before);
  }, 60_000);
});

describe('calibration memory plan', () => {
  // DeiT-S: 224px, patch 16, dim 384, 6 heads, MLP 1536, 12 blocks; 256 images under the browser default
  // of 128 MiB per storage binding.
  const deitS = { imageSize: 224, patch: 16, inChannels: 3, dim: 384, depth: 12, heads: 6, mlpDim: 1536, tokens: 197, numClasses: 1000 } as ViTConfig;
  it('256 DeiT-S images fit 128 MiB bindings in chunks, and the plan states the memory needed', () => {
    const p = calibrationMemoryPlan(deitS, 256, 128 * 2 ** 20);
    const probsPerImage = 6 * 197 * 197 * 4;
    expect(p.chunk * probsPerImage).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(p.chunks).toBe(Math.ceil(256 / p.chunk));
    expect(p.chunks).toBeGreaterThan(1);
    expect(p.largestSiteBytes).toBe(256 * Math.max(probsPerImage, 197 * 1536 * 4));
    expect(p.blockInputBytes).toBe(256 * 197 * 384 * 4);
    console.log(`[calibrate] DeiT-S 256 images: chunk ${p.chunk}, ${p.chunks} chunks, peak ${(p.peakBytes / 2 ** 20).toFixed(0)} MiB`);
    expect(p.peakBytes).toBeLessThan(2 * 2 ** 30);   // a laptop GPU's memory
  });
});
