/**
 * The human-readable summary of a run: one self-contained HTML page with inline CSS and inline SVG charts
 * (SQNR per site; ASMO's loss curves per module and accuracy so far, when the run optimised), no script,
 * and a Content-Security-Policy that would block one anyway. Every string from the user (model and file
 * names, class names) is escaped: a file named `<img src=x onerror=alert(1)>.png` stays text.
 */
import type { AsmoModuleReport } from '../asmo/settings.ts';
import { QUANT_BLOCK_SITES } from '../quant/sites.ts';
import { METHOD_LABELS } from '../quant/settings.ts';
import { escapeHtml as esc, formatBytes, percent, shortNumber } from './format.ts';
import type { RunReport } from './run-report.ts';
import { barChart, lineChart } from './svg-charts.ts';

const SITE_COLORS: Record<string, string> = {
  'qkv-in': '#2c5aa0', q: '#5b8def', k: '#8fb3f5', v: '#b7cdf7', 'attn-probs': '#2b8a3e', 'proj-in': '#8a5a00',
  'fc1-in': '#e8590c', 'fc2-in': '#c92a2a', 'patch-in': '#667', 'head-in': '#1d2330',
};
const LOSS_TERMS = [
  { key: 'total', name: 'total', color: '#1d2330' }, { key: 'rec', name: 'reconstruction', color: '#2c5aa0' },
  { key: 'round', name: 'rounding', color: '#e8590c' }, { key: 'attn', name: 'attention KL', color: '#2b8a3e' },
] as const;

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 6px;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:4px 0}td,th{border-bottom:1px solid #eee;padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{color:#556;font-weight:normal}td.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#667}.worse{color:#a11}
.charts{display:flex;flex-wrap:wrap;gap:8px}.chart-scroll{overflow-x:auto}.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}code{font-size:12px}`;

const kv = (rows: [string, string][]) => `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
const sec = (s: number) => `${s.toFixed(1)} s`;
const pp = (d: number) => `${d >= 0 ? '+' : '−'}${Math.abs(100 * d).toFixed(2)} pp`;
const legend = (items: { name: string; color: string }[]) =>
  `<p class="legend">${items.map((l) => `<span><i style="background:${esc(l.color)}"></i>${esc(l.name)}</span>`).join('')}</p>`;

export function runReportHtml(r: RunReport): string {
  const title = `${r.run.label} ${r.run.bits} — ${r.model.name}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="muted">adfq-studio run report · ${esc(r.createdAt)}${r.adapter ? ` · GPU adapter: ${esc(r.adapter)}` : ''} · every parameter is in the JSON report</p>
${accuracySection(r)}
${modelSection(r)}
${settingsSection(r)}
${sizesSection(r)}
${sitesSection(r)}
${asmoSection(r)}
${imagesSection(r)}
</body></html>
`;
}

function accuracySection(r: RunReport): string {
  const a = r.accuracy, row = (name: string, x: typeof a.fp32, delta = '') =>
    `<tr><td>${esc(name)}</td><td class="num">${percent(x.top1)}</td><td class="num">${percent(x.top5)}</td><td class="num">${x.correct1}/${x.count}</td><td class="num">${delta}</td></tr>`;
  const agree = r.predictions.filter((p) => p.fp32 === p.quantized).length;
  return `<h2>Accuracy</h2>
<table data-section="accuracy"><tr><th></th><th>top-1</th><th>top-5</th><th>correct</th><th>Δ top-1</th></tr>
${row('FP32', a.fp32)}${row(`${r.run.label} ${r.run.bits}`, a.quantized, `<span class="${a.deltaTop1 < 0 ? 'worse' : ''}">${pp(a.deltaTop1)}</span>`)}</table>
<p>Evaluated on ${r.data.evalImages} image(s) not used for calibration${r.predictions.length ? `; the quantized model's top-1 equals FP32's on ${agree} of ${r.predictions.length} (${percent(agree / r.predictions.length)})` : ''}.</p>
<p>Timings: ${[['calibration', r.timings.calibrationSeconds], ...(r.asmo ? [['optimisation', r.timings.optimisationSeconds]] : []),
    ['FP32 evaluation', r.timings.fp32EvalSeconds], ['quantized evaluation', r.timings.quantizedEvalSeconds], ['total', r.timings.totalSeconds]]
    .map(([k, v]) => `${k} ${sec(v as number)}`).join(' · ')} (searches on the ${esc(r.run.searches.toUpperCase())})</p>`;
}

function modelSection(r: RunReport): string {
  const m = r.model, p = r.preprocessing;
  return `<h2>Model and data</h2>${kv([
    ['model', esc(m.name)],
    ['architecture', esc(`${m.family}: ${m.depth} blocks, width ${m.dim}, ${m.heads} heads, MLP ${m.mlpDim}, patch ${m.patch}, ${m.imageSize}×${m.imageSize}×${m.inChannels}, ${m.tokens} tokens, ${m.numClasses} classes`)],
    ['parameters', `${m.parameters.toLocaleString('en-US')} (FP32 ${formatBytes(m.fp32Bytes)})`],
    ['preprocessing', esc(`resize ${p.resize}, centre crop ${p.crop}, mean ${p.mean.join(', ')}, std ${p.std.join(', ')}, ${p.channels} channel(s)`)],
    ['images', esc(`${r.data.calibImages} calibrate, ${r.data.evalImages} evaluate; ${r.data.split}`)],
  ])}`;
}

function settingsSection(r: RunReport): string {
  const s = r.run.settings, ab = s.ablation ?? {};
  const off = [ab.ppoqQkv || ab.ppoqFc1 ? 'PPOQ → uniform' : '', ab.slq ? 'SLQ → uniform' : '', ab.logProbs ? 'log√2 → uniform' : ''].filter(Boolean);
  const rows: [string, string][] = [
    ['method', esc(METHOD_LABELS[s.method] ?? s.method)], ['bits', `weights ${s.bitsW}, activations ${s.bitsA}`],
    ...(s.method === 'adfq' ? [['ablations', esc(off.join(', ') || 'none')], ['PPOQ τ', `qkv input ${s.tauQkv}, fc1 input ${s.tauFc1}`]] as [string, string][] : []),
  ];
  const a = s.asmo;
  if (a) {
    rows.push(['ASMO', esc(`${a.iters} steps per module, batch ${a.batch}, seed ${a.seed}, modules: ${Object.entries(a.modules).filter(([, on]) => on).map(([k]) => k).join(', ')}`)],
      ['ASMO learning rates', `AdaRound α ${a.lrWeights}, step sizes ${a.lrSteps} (cosine)`],
      ['ASMO rounding term', `λ ${a.roundWeight}, β ${a.betaStart} → ${a.betaEnd} after ${percent(a.warmup, 0)} warm-up`],
      ['ASMO attention term', esc(`KL over ${a.klAxis} of softmax(A/${a.klTemperature}), weight ${a.klWeight}`)],
      ['ASMO other', esc(`QDrop p ${a.dropProb}, gradients ${a.gradients === 'default' ? "the released code's" : 'STE everywhere / LSQ'}`)]);
  }
  return `<h2>Settings</h2>${kv(rows)}`;
}

function sizesSection(r: RunReport): string {
  const { qdq, fakeQuant } = r.sizes;
  const rows: [string, string][] = [['FP32 model (parameters × 4 bytes)', formatBytes(r.sizes.fp32ModelBytes)]];
  const any = qdq ?? fakeQuant;
  if (any) {
    rows.push(['weights (Linear/Conv) in FP32', formatBytes(any.fp32WeightBytes)],
      [`weights packed at ${any.bitsW} bits (+ scale and zero point per channel)`, `${formatBytes(any.packedWeightBytes)} (${(any.fp32WeightBytes / any.packedWeightBytes).toFixed(1)}× smaller)`]);
  }
  if (qdq) rows.push([`quantized ONNX (QDQ, opset ${qdq.opset})`, `${formatBytes(qdq.fileBytes)} · weights stored ${esc(Object.entries(qdq.storage).map(([k, n]) => `${n}× ${k}`).join(', '))}`]);
  if (fakeQuant) rows.push([`FP32 ONNX with fake-quantized weights (opset ${fakeQuant.opset})`, formatBytes(fakeQuant.fileBytes)]);
  return `<h2>Sizes</h2>${kv(rows)}`;
}

function sitesSection(r: RunReport): string {
  if (!r.sites.length) return '';
  const depth = r.model.depth, kinds: string[] = [...QUANT_BLOCK_SITES];
  const col = (s: RunReport['sites'][number]) => (s.site.block !== null ? s.site.block + 1 : s.site.kind === 'patch-in' ? 0 : depth + 1);
  const sorted = [...r.sites].sort((a, b) => col(a) - col(b) || kinds.indexOf(a.site.kind) - kinds.indexOf(b.site.kind));
  const groups: { label: string; count: number }[] = [];
  for (const s of sorted) {
    const label = s.site.block !== null ? `${s.site.block}` : s.site.kind === 'patch-in' ? 'in' : 'head';
    if (groups[groups.length - 1]?.label === label) groups[groups.length - 1].count++;
    else groups.push({ label, count: 1 });
  }
  const chart = barChart({
    title: 'SQNR per quantized site (dB), grouped by block', yLabel: 'SQNR (dB)',
    bars: sorted.map((s) => ({ label: s.name, value: s.sqnrDb, color: SITE_COLORS[s.site.kind] ?? '#888', attrs: { 'data-site': s.name } })),
    groups, legend: Object.entries(SITE_COLORS).map(([label, color]) => ({ label, color })), attrs: { 'data-chart': 'sqnr' },
  });
  const rows = sorted.map((s) => `<tr data-site="${esc(s.name)}"><td>${esc(s.name)}</td><td>${esc(s.quantizer)}</td>`
    + `<td class="num">${Number.isFinite(s.sqnrDb) ? `${s.sqnrDb.toFixed(2)} dB` : 'lossless'}</td><td class="num">${esc(shortNumber(s.mse))}</td>`
    + `<td class="num">${s.outlierFraction === null ? '' : percent(s.outlierFraction, 3)}</td><td class="num">${s.count}</td></tr>`).join('');
  return `<h2>Quantization error per site</h2>
<p class="muted">Measured on the calibration images${r.asmo ? ', before the module-wise optimisation' : ''}: SQNR = 10·log10(Σx² / Σ(x − x̂)²).</p>
<div class="chart-scroll">${chart}</div>
<details><summary>Every site (${sorted.length})</summary><table data-section="sites"><tr><th>site</th><th>quantizer</th><th>SQNR</th><th>MSE</th><th>above τ (FP32)</th><th>values</th></tr>${rows}</table></details>`;
}

function lossChart(m: AsmoModuleReport): string {
  return lineChart({
    title: m.name, xLabel: 'step', yLabel: 'loss (log)', log: true, width: 300, height: 190,
    series: LOSS_TERMS.map((t) => ({ name: t.name, color: t.color, points: m.curve.map((p): [number, number] => [p.step, p[t.key]]) })),
    attrs: { 'data-chart': 'asmo-loss', 'data-module': m.name },
  });
}

function asmoSection(r: RunReport): string {
  const a = r.asmo;
  if (!a) return '';
  const rows = a.modules.map((m) => `<tr><td>${esc(m.name)}</td><td class="num">${m.iters}</td><td class="num">${esc(shortNumber(m.recBefore))} → ${esc(shortNumber(m.recAfter))}</td>`
    + `<td class="num">${percent(m.rounding.up, 1)}</td><td class="num">${percent(m.rounding.changed, 1)}</td><td class="num">${sec(m.seconds)}</td></tr>`).join('');
  const acc = a.accuracy.length ? lineChart({
    title: `top-1 after each block (${a.accuracy[a.accuracy.length - 1].images} held-out images)`, xLabel: 'blocks optimised', yLabel: 'top-1 (%)',
    series: [{ name: 'top-1', color: '#2c5aa0', points: a.accuracy.map((p): [number, number] => [p.blocksDone, 100 * p.top1]) }],
    width: 420, height: 220, yFormat: (v) => `${shortNumber(v)}%`, attrs: { 'data-chart': 'asmo-accuracy' },
  }) : '';
  return `<h2>Module-wise optimisation (ASMO)</h2>
<p>${a.modules.length} module(s) on ${a.images} reconstruction image(s) in ${sec(a.seconds)}. ${esc(a.memory.summary)}</p>
<table data-section="asmo-modules"><tr><th>module</th><th>steps</th><th>L_rec before → after</th><th>rounded up</th><th>changed from nearest</th><th>time</th></tr>${rows}</table>
${acc ? `<h3>Accuracy so far</h3>${acc}` : ''}
<h3>Loss per module</h3>${legend(LOSS_TERMS.map((t) => ({ name: t.name, color: t.color })))}
<div class="charts">${a.modules.map(lossChart).join('')}</div>`;
}

function imagesSection(r: RunReport): string {
  const skipped = r.data.skipped.length
    ? `<p class="worse">${r.data.skipped.length} image(s) could not be read and were skipped:</p><ul data-section="skipped">${r.data.skipped.map((s) => `<li><code>${esc(s.name)}</code>: ${esc(s.reason)}</li>`).join('')}</ul>`
    : '<p>Every image was read.</p>';
  const calib = r.data.calibFiles.length
    ? `<details><summary>Calibration images (${r.data.calibFiles.length})</summary><ul data-section="calib-files">${r.data.calibFiles.map((n) => `<li><code>${esc(n)}</code></li>`).join('')}</ul></details>`
    : '';
  return `<h2>Images</h2>${skipped}${calib}`;
}
