/**
 * Issue 6, item 3: the run report. The HTML summary is one self-contained page with no script, every user
 * string escaped (a file named `<img src=x onerror=alert(1)>.png` stays text), well-formed markup, the SQNR
 * bars, ASMO's loss curves per module and accuracy so far with the run's numbers; the JSON report holds
 * every parameter, the settings with ASMO's seed, timings, per-site errors, curves and predictions.
 */
import { describe, expect, it } from 'vitest';
import type { AsmoModuleReport, AsmoSummary } from '../src/engine/asmo/settings.ts';
import { DEFAULT_ASMO_SETTINGS } from '../src/engine/asmo/settings.ts';
import type { ExportSummary } from '../src/engine/export/export-onnx.ts';
import type { BlockQuantParams, ViTQuantParams } from '../src/engine/quant/params.ts';
import type { SiteQuantReport } from '../src/engine/quant/quantize.ts';
import { QUANT_BLOCK_SITES } from '../src/engine/quant/sites.ts';
import { escapeHtml, fileNamePart, formatBytes } from '../src/engine/report/format.ts';
import { runReportHtml } from '../src/engine/report/report-html.ts';
import { buildRunReport, runReportJson, type ReportInput } from '../src/engine/report/run-report.ts';
import type { ModelSummary } from '../src/engine/vit/summary.ts';

const EVIL = '<img src=x onerror=alert(1)>.png';
const EVIL_MODEL = 'vit"<script>alert(2)</script>.onnx';
const DEPTH = 2;

const channel = (n: number, d: number) => ({ kind: 'channel' as const, delta: Array.from({ length: n }, (_, i) => d * (1 + i / n)), zero: new Array(n).fill(7) });
const uniform = (delta: number, zero = 8) => ({ kind: 'uniform' as const, delta, zero });
const block = (b: number): BlockQuantParams => ({
  qkvW: channel(12, 0.01 + b), projW: channel(4, 0.02), fc1W: channel(8, 0.03), fc2W: channel(4, 0.04),
  qkvIn: { kind: 'ppoq', tau: 5, delta: [0.1, 0.2, 0.3], zero: [8, 7, 9] }, q: uniform(0.11), k: uniform(0.12), v: uniform(0.13),
  probs: { kind: 'log', delta: 1, base: 'sqrt2' }, projIn: uniform(0.2), fc1In: { kind: 'ppoq', tau: 10, delta: [0.4, 0.5, 0.6], zero: [3, 4, 5] },
  fc2In: { kind: 'slq', delta: 2.5, base: 'sqrt2', shift: Math.fround(-0.17005) },
});
const params: ViTQuantParams = {
  bitsW: 4, bitsA: 4, patchIn: uniform(0.05), patchW: channel(4, 0.001), blocks: [block(0), block(1)], headIn: uniform(0.3), headW: channel(10, 0.002),
  rounding: { 'blocks.0.fc1': 'AQID' },
};

/** Every site with a distinct SQNR; block 1 v is lossless (infinite SQNR). */
const sites: SiteQuantReport[] = [
  { site: { block: null, kind: 'patch-in' }, quantizer: 'uniform', mse: 1e-4, sqnrDb: 30.5, outlierFraction: null, count: 2352 },
  ...Array.from({ length: DEPTH }, (_, b) => QUANT_BLOCK_SITES.map((kind, i): SiteQuantReport => ({
    site: { block: b, kind }, quantizer: kind === 'qkv-in' || kind === 'fc1-in' ? 'ppoq' : kind === 'attn-probs' ? 'log' : kind === 'fc2-in' ? 'slq' : 'uniform',
    mse: 0.001 * (i + 1), sqnrDb: b === 1 && kind === 'v' ? Infinity : 10 + b * 8 + i + 0.25, outlierFraction: kind === 'qkv-in' ? 0.00125 : null, count: 1000,
  }))).flat(),
  { site: { block: null, kind: 'head-in' }, quantizer: 'uniform', mse: 0.02, sqnrDb: -3.25, outlierFraction: null, count: 64 },
];

const curve = (n: number, attn: boolean) => Array.from({ length: n }, (_, i) => {
  const rec = 0.5 / (1 + i), round = i < 4 ? 0 : 0.01 * (n - i), a = attn ? 0.2 / (1 + i) : 0;
  return { step: 10 * i, rec, round, attn: a, total: rec + round + a };
});
const moduleReport = (name: string, kind: 'patch' | 'attention' | 'mlp' | 'head', block: number | null): AsmoModuleReport => ({
  module: { kind, block }, name, iters: 200, curve: curve(20, kind === 'attention'), rounding: { weights: 1000, up: 0.5, changed: 0.125 },
  recBefore: 0.04, recAfter: 0.01, seconds: 3.5,
});
const modules = [moduleReport('patch embedding', 'patch', null), moduleReport('block 0 attention', 'attention', 0), moduleReport('block 0 MLP', 'mlp', 0),
  moduleReport('block 1 attention', 'attention', 1), moduleReport('block 1 MLP', 'mlp', 1), moduleReport('head', 'head', null)];
const asmoSettings = { ...DEFAULT_ASMO_SETTINGS, iters: 200, seed: 1234 };
const asmo: AsmoSummary = {
  settings: asmoSettings, images: 32, modules, seconds: 21,
  accuracy: [0, 1, 2].map((b) => ({ blocksDone: b, label: b === 2 ? 'whole model' : `after block ${b - 1}`, top1: 0.8 + 0.04 * b, images: 64 })),
  memory: { images: 32, streamBytes: 1 << 20, storage: 'gpu', stepBytes: 1 << 22, peakBytes: 1 << 23, summary: 'ASMO memory: streams 1 MiB on the GPU' },
};

const summary: ModelSummary = {
  family: 'ViT/DeiT (timm)', style: 'timm', imageSize: 28, patch: 7, inChannels: 3, dim: 4, depth: DEPTH, heads: 2, mlpDim: 8, numClasses: 10,
  tokens: 17, prefixTokens: 1, gelu: 'erf', lnEps: 1e-6, fixedBatch: null, parameters: 123_456, weightBytes: 493_824,
  activationBytesPerImage: 1000, hasLabels: true, preprocessing: null,
};
const qdq: ExportSummary = { format: 'qdq', opset: 13, bitsW: 4, weightCount: 100_000, fp32WeightBytes: 400_000, packedWeightBytes: 50_500,
  storedWeightBytes: 101_000, otherParamBytes: 93_824, fp32ModelBytes: 493_824, fileBytes: 210_345, storage: { int8: 10 } };

function input(withAsmo: boolean): ReportInput {
  return {
    model: { name: EVIL_MODEL, summary, labels: ['T-shirt', `class ${EVIL}`] },
    preprocessing: { resize: 28, imageSize: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], channels: 3 },
    split: 'the first 16 images round-robin over the classes calibrate, the other 14 are evaluated',
    adapter: 'SwiftShader & co', createdAt: '2025-01-02T03:04:05.000Z',
    exports: { qdq },
    run: {
      label: withAsmo ? 'ADFQ + ASMO (200 steps)' : 'ADFQ', settings: { method: 'adfq', bitsW: 4, bitsA: 4, ablation: {}, tauQkv: 5, tauFc1: 10, ...(withAsmo ? { asmo: asmoSettings } : {}) },
      params, sites, calibImages: 16, evalImages: 168,
      fp32: { top1: 0.9048, top5: 0.99, count: 168, correct1: 152, correct5: 166 },
      quantized: { top1: 0.8929, top5: 0.98, count: 168, correct1: 150, correct5: 165 },
      timings: { calibrationSeconds: 31.25, optimisationSeconds: withAsmo ? 21 : 0, fp32EvalSeconds: 1.5, quantizedEvalSeconds: 2.5, totalSeconds: 56.75 },
      backend: 'gpu', ...(withAsmo ? { asmo } : {}),
      skipped: [{ name: `Bag/${EVIL}`, reason: 'not a PNG & not a JPEG' }],
      calibNames: ['Bag/a.png', EVIL],
      predictions: [{ name: EVIL, label: 1, fp32: 1, quantized: 1 }, { name: 'b.png', label: 0, fp32: 0, quantized: 1 }],
    },
  };
}

/** Open/close tags balance (void elements and self-closing SVG tags aside): nothing user-written became markup. */
function unbalancedTags(html: string): string[] {
  const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const stack: string[] = [], problems: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^<>]*?(\/?)>/g)) {
    const [, close, name, self] = m, tag = name.toLowerCase();
    if (self || VOID.has(tag)) continue;
    if (!close) stack.push(tag);
    else if (stack.pop() !== tag) problems.push(`</${tag}> at ${m.index}`);
  }
  return [...problems, ...stack.map((t) => `<${t}> not closed`)];
}

const attr = (html: string, selector: RegExp) => [...html.matchAll(selector)].map((m) => m[1]);

describe('the HTML summary of a run', () => {
  const html = runReportHtml(buildRunReport(input(true)));

  it('has no script, no event handler, no script URL, and a CSP that forbids scripts', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });

  it('keeps user strings as text: file, model and class names are escaped everywhere', () => {
    expect(html).not.toContain('<img');
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain('<script>alert(2)');
    const escaped = escapeHtml(EVIL);
    expect(escaped).toBe('&lt;img src=x onerror=alert(1)&gt;.png');
    expect(html).toContain(`<code>Bag/${escaped}</code>: not a PNG &amp; not a JPEG`);   // skipped image
    expect(html).toContain(`<li><code>${escaped}</code></li>`);                            // calibration file
    expect(html).toContain(`<title>ADFQ + ASMO (200 steps) W4A4 — vit&quot;&lt;script&gt;alert(2)&lt;/script&gt;.onnx</title>`);
    expect(html).toContain('GPU adapter: SwiftShader &amp; co');
    expect(unbalancedTags(html)).toEqual([]);
  });

  it('draws the SQNR of every site as a bar (a lossless site as ∞) with its number', () => {
    const svg = html.match(/<svg[^>]*data-chart="sqnr"[\s\S]*?<\/svg>/)![0];
    expect(svg).toContain(`data-bars="${2 + 8 * DEPTH}"`);
    const bars = attr(svg, /<rect[^>]*data-site="([^"]+)"/g);
    expect(bars).toHaveLength(2 + 8 * DEPTH - 1);
    expect(bars[0]).toBe('patch-in');
    expect(bars[bars.length - 1]).toBe('head-in');
    expect(svg).toMatch(/<text[^>]*data-value="Infinity" data-site="block 1 v"[^>]*><title>block 1 v: lossless<\/title>∞<\/text>/);
    expect(svg).toMatch(/<rect[^>]*data-value="20.25" data-site="block 1 k"/);
    expect(svg).toMatch(/<rect[^>]*data-value="-3.25" data-site="head-in"/);
    // ... and in the table.
    expect(html).toMatch(/<tr data-site="block 1 k"><td>block 1 k<\/td><td>uniform<\/td><td class="num">20.25 dB<\/td>/);
    expect(html).toMatch(/<tr data-site="block 0 qkv-in">.*<td class="num">0.125%<\/td>/);
  });

  it('draws the loss curves of every ASMO module (rounding left out during the warm-up) and the accuracy so far', () => {
    const loss = [...html.matchAll(/<svg[^>]*data-chart="asmo-loss"[^>]*data-module="([^"]+)"[\s\S]*?<\/svg>/g)];
    expect(loss.map((m) => m[1])).toEqual(modules.map((m) => m.name));
    for (const [svg] of loss) {
      const paths = attr(svg, /<path d="([^"]*)"[^>]*data-series/g);
      expect(paths).toHaveLength(4);
      const [total, rec, round] = paths;
      expect(total.split(/[ML]/).filter(Boolean)).toHaveLength(20);
      expect(rec.split(/[ML]/).filter(Boolean)).toHaveLength(20);
      expect(round.split(/[ML]/).filter(Boolean)).toHaveLength(16);   // steps 0-30 have no rounding term: a gap on the log axis
    }
    const attnPath = (m: number) => attr(loss[m][0], /<path d="([^"]*)"[^>]*data-series="attention KL"/g)[0];
    expect(attnPath(1)).not.toBe('');    // attention module
    expect(attnPath(2)).toBe('');        // an MLP module has no attention term
    const acc = html.match(/<svg[^>]*data-chart="asmo-accuracy"[\s\S]*?<\/svg>/)![0];
    expect(acc).toContain('data-points="3"');
    expect(acc).toContain('top-1 after each block (64 held-out images)');
    expect(html).toContain('<td>block 0 MLP</td><td class="num">200</td><td class="num">0.04 → 0.01</td><td class="num">50.0%</td><td class="num">12.5%</td>');
  });

  it('states the accuracies, agreement, timings, settings with the seed, and the sizes', () => {
    expect(html).toContain('<td>FP32</td><td class="num">90.48%</td><td class="num">99.00%</td><td class="num">152/168</td>');
    expect(html).toMatch(/<td>ADFQ \+ ASMO \(200 steps\) W4A4<\/td><td class="num">89.29%<\/td>.*−1.19 pp/);
    expect(html).toContain("the quantized model's top-1 equals FP32's on 1 of 2 (50.00%)");
    expect(html).toContain('calibration 31.3 s · optimisation 21.0 s · FP32 evaluation 1.5 s · quantized evaluation 2.5 s · total 56.8 s');
    expect(html).toContain('200 steps per module, batch 32, seed 1234');
    expect(html).toContain(`quantized ONNX (QDQ, opset 13)</th><td>${formatBytes(210_345)} · weights stored 10× int8`);
    expect(html).toContain(`${formatBytes(50_500)} (7.9× smaller)`);
    expect(formatBytes(210_345)).toBe('205.42 KiB');
  });

  it('without ASMO: no loss or accuracy charts, the SQNR chart stays', () => {
    const plain = runReportHtml(buildRunReport(input(false)));
    expect(plain).not.toContain('data-chart="asmo-loss"');
    expect(plain).not.toContain('data-chart="asmo-accuracy"');
    expect(plain).not.toContain('ASMO');
    expect(plain).toContain('data-chart="sqnr"');
    expect(unbalancedTags(plain)).toEqual([]);
  });
});

describe('the JSON report', () => {
  it('holds every parameter, the settings with ASMO and its seed, timings, per-site errors, curves and predictions', () => {
    const back = JSON.parse(runReportJson(buildRunReport(input(true))));
    expect(back.kind).toBe('adfq-studio run report');
    expect(back.quantParams).toEqual(params);
    expect(back.run.settings.asmo).toEqual(asmoSettings);
    expect(back.run.seed).toBe(1234);
    expect(back.timings.calibrationSeconds).toBe(31.25);
    expect(back.sites).toHaveLength(2 + 8 * DEPTH);
    expect(back.sites.find((s: { name: string }) => s.name === 'block 1 v').sqnrDb).toBe('Infinity');
    expect(back.sites[1]).toMatchObject({ name: 'block 0 qkv-in', mse: 0.001, outlierFraction: 0.00125 });
    expect(back.asmo.modules[1].curve).toEqual(modules[1].curve);
    expect(back.asmo.accuracy).toHaveLength(3);
    expect(back.accuracy.quantized.top1).toBe(0.8929);
    expect(back.predictions[0]).toEqual({ name: EVIL, label: 1, fp32: 1, quantized: 1 });
    expect(back.model.name).toBe(EVIL_MODEL);
    expect(back.sizes.qdq.fileBytes).toBe(210_345);
    expect(back.data.calibFiles).toEqual(['Bag/a.png', EVIL]);
  });

  it('file-name parts keep only safe characters', () => {
    expect(fileNamePart(EVIL)).toBe('img_src_x_onerror_alert_1_.png');
    expect(fileNamePart('vit-fmnist-outliers')).toBe('vit-fmnist-outliers');
    expect(fileNamePart('../../etc/passwd')).toBe('etc_passwd');
    expect(fileNamePart('')).toBe('model');
  });
});
