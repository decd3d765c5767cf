/**
 * Statistics of every site over a set of images, collected on the GPU through the runner's taps,
 * against the same statistics computed on the CPU twin's activations. GPU and CPU activations differ
 * by float rounding (~1e-6), so ranges are compared with a tolerance and histograms by their total
 * and by how many values moved bins (only values within rounding of a bin edge can).
 */
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { imageBytesToTensor } from '../src/engine/image/index.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { histogramRef } from '../src/engine/reference/stats/histogram.ts';
import { vitForwardCpu } from '../src/engine/reference/vit-forward.ts';
import { collectStats } from '../src/engine/stats/collect-stats.ts';
import { DEFAULT_STATS_SETTINGS, SITE_KINDS } from '../src/engine/stats/types.ts';
import { compareClose } from './helpers/all-close.ts';
import { getGpu } from './helpers/gpu.ts';
import { loadFixture } from './fixtures/onnx/io.ts';

function randomPng(seed: number, w: number, h: number): Uint8Array {
  const data = new Uint8Array(w * h * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = (s >>> 16) & 255; }
  return encode({ width: w, height: h, data, channels: 3, depth: 8 });
}

describe('collectStats', () => {
  it('matches the CPU twin at every site of every block, and returns every GPU byte', async () => {
    const ctx = await getGpu();
    const model = importViT(loadFixture('timm_op17_tanh_dynamic').bytes);
    const c = model.config;
    const images = [0, 1, 2, 3, 4].map((i) => ({ name: `img${i}.png`, label: null, bytes: randomPng(i + 1, 40, 36) }));
    const corrupt = { name: 'broken.png', label: null, bytes: images[0].bytes.slice(0, 50) };
    const sources = [...images.slice(0, 2), corrupt, ...images.slice(2)].map((im) => ({ ...im, load: async () => im.bytes }));
    const spec = { resize: 32, imageSize: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const settings = { ...DEFAULT_STATS_SETTINGS, thresholds: [0.5, 2] };
    const baseline = ctx.pool.bytesInUse;
    const runner = new ViTRunner(ctx, model);
    const phases = new Set<string>();
    const got = await collectStats({ runner, sources, spec, batchSize: 2, settings, onProgress: (_d, _t, p) => phases.add(p) });
    runner.dispose();
    expect(ctx.pool.bytesInUse).toBe(baseline);
    expect(got.skipped.map((s) => s.name)).toEqual(['broken.png']);
    expect([...phases]).toEqual(['ranges', 'histograms']);
    expect(got.summary.images).toBe(5);

    const per = 3 * 32 * 32, pixels = new Float32Array(5 * per);
    images.forEach((im, i) => pixels.set(imageBytesToTensor(im.bytes, im.name, spec), i * per));
    const cpu = new Map<string, Float32Array>();
    vitForwardCpu(model, pixels, 5, (block, kind, data) => cpu.set(`${block}:${kind}`, data));
    const tol = { atol: 1e-4, rtol: 1e-4 };
    for (let block = 0; block < c.depth; block++) for (const kind of SITE_KINDS) {
      const s = got.site({ block, kind })!, x = cpu.get(`${block}:${kind}`)!;
      const where = `block ${block} ${kind}`;
      expect(s.count, where).toBe(x.length);
      const channels = kind === 'attn-probs' ? c.tokens : kind === 'fc2-in' ? c.mlpDim : c.dim;
      expect(s.channels, where).toBe(channels);
      let min = Infinity, max = -Infinity;
      for (const v of x) { min = Math.min(min, v); max = Math.max(max, v); }
      expect(compareClose([s.min, s.max], [min, max], tol).ok, where).toBe(true);
      const chMax = new Float32Array(channels).fill(-Infinity);
      const tcAbs = new Float32Array(c.tokens * channels).fill(0);
      for (let i = 0; i < x.length; i++) {
        const ch = i % channels, tok = Math.floor(i / channels) % c.tokens;
        chMax[ch] = Math.max(chMax[ch], x[i]);
        tcAbs[tok * channels + ch] = Math.max(tcAbs[tok * channels + ch], Math.abs(x[i]));
      }
      expect(compareClose(s.channelMax, chMax, tol).message, where).toMatch(/^ok/);
      expect(compareClose(s.tokenChannelAbsMax, tcAbs, tol).message, where).toMatch(/^ok/);
      const h = s.histogram;
      expect(h.counts.reduce((a, b) => a + b, 0) + h.under + h.over, where).toBe(x.length);
      const ref = histogramRef([x], { bins: h.counts.length, lo: h.lo, hi: h.hi });
      let moved = 0;
      ref.counts.forEach((n, i) => { moved += Math.abs(n - h.counts[i]); });
      expect(moved, `${where}: values in a different bin than on the CPU`).toBeLessThanOrEqual(Math.max(4, x.length * 1e-3));
      const above = settings.thresholds.map((t) => x.filter((v) => Math.abs(v) > t).length);
      s.above.forEach((n, i) => expect(Math.abs(n - above[i]), where).toBeLessThanOrEqual(2));
    }
  });
});
