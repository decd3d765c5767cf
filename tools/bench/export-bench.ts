/**
 * `npm run bench:export -- --report run.json [--images dir] [--count 64] [--runs 5]`: for each run of an
 * `adfq quantize --report` file (its model and quantizer parameters), exports the quantized model (QDQ
 * opset 13 int8 weights; QDQ opset 21 int4 weights when b_w ≤ 4; FP32 with fake-quantized weights) and
 * prints file sizes and onnxruntime-node latency next to the FP32 source model, and the top-1 agreement
 * of each export (onnxruntime-node, session.qdq_matmulnbits_accuracy_level = 1) with our engine's
 * quantized model (QuantViTRunner) on `count` images of the report's evaluation folder.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { median } from '../../src/bench/measure.ts';
import { randomPixels } from '../../src/bench/pixels.ts';
import { listImageFiles } from '../../src/engine/data/node-files.ts';
import { buildQuantizedOnnx, type ExportOptions } from '../../src/engine/export/export-onnx.ts';
import { acquireGpu } from '../../src/engine/gpu/device.ts';
import { imageBytesToTensor } from '../../src/engine/image/index.ts';
import { QuantViTRunner } from '../../src/engine/model/quant-runner.ts';
import { importViT } from '../../src/engine/onnx/import-vit.ts';
import type { ViTQuantParams } from '../../src/engine/quant/params.ts';

function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const reportPath = flag('report');
if (!reportPath) throw new Error('Give --report run.json (written by adfq quantize --report).');
const count = Number(flag('count', '64')), runs = Number(flag('runs', '5'));
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const modelPath: string = report.argv?.[0]?.endsWith('.onnx') ? report.argv[0] : report.model;
const fpBytes = new Uint8Array(readFileSync(modelPath));
const model = importViT(fpBytes), c = model.config;
const log = (m: string) => process.stderr.write(`[bench:export] ${m}\n`);
const SESSION = { graphOptimizationLevel: 'all' as const, extra: { session: { qdq_matmulnbits_accuracy_level: '1' } } };

/** The report's evaluation images (first `count`, sorted), preprocessed as the report says. */
async function images(): Promise<Float32Array> {
  const dir = flag('images') ?? report.argv?.[report.argv.indexOf('--eval') + 1];
  if (!dir) throw new Error('The report names no evaluation folder: give --images <dir>.');
  const calib = new Set<string>(report.calibFiles ?? []);
  const files = (await listImageFiles(dir)).filter((f) => !calib.has(f.path)).slice(0, count);
  const spec = { ...report.preprocessing };
  const per = c.inChannels * c.imageSize ** 2, out = new Float32Array(files.length * per);
  for (const [i, f] of files.entries()) out.set(imageBytesToTensor(new Uint8Array(await readFile(f.absolutePath)), f.path, spec), i * per);
  return out;
}

const argmax = (l: Float32Array | ArrayLike<number>, i: number) => {
  let b = 0;
  for (let k = 1; k < c.numClasses; k++) if (l[i * c.numClasses + k] > l[i * c.numClasses + b]) b = k;
  return b;
};

async function ortRun(bytes: Uint8Array, pixels: Float32Array, n: number) {
  const s = await ort.InferenceSession.create(bytes, SESSION), input = s.inputNames[0];
  const per = c.inChannels * c.imageSize ** 2, logits = new Float32Array(n * c.numClasses);
  for (let i = 0; i < n; i++) {
    const r = await s.run({ [input]: new ort.Tensor('float32', pixels.subarray(i * per, (i + 1) * per), [1, c.inChannels, c.imageSize, c.imageSize]) });
    logits.set(r[s.outputNames[0]].data as Float32Array, i * c.numClasses);
  }
  const times: number[] = [];
  for (const batch of [1, 8]) {
    const px = randomPixels({ seed: batch, batch, channels: c.inChannels, size: c.imageSize, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const feed = { [input]: new ort.Tensor('float32', px, [batch, c.inChannels, c.imageSize, c.imageSize]) };
    await s.run(feed);
    const t: number[] = [];
    for (let k = 0; k < runs; k++) { const t0 = performance.now(); await s.run(feed); t.push(performance.now() - t0); }
    times.push(median(t));
  }
  await s.release();
  return { logits, ms1: times[0], ms8: times[1] };
}

const pixels = await images(), n = pixels.length / (c.inChannels * c.imageSize ** 2);
log(`${n} images, model ${modelPath}`);
const ctx = await acquireGpu();
const fp = await ortRun(fpBytes, pixels, n);
const mib = (b: number) => (b / 2 ** 20).toFixed(2);
const rows = [`| model | file MiB | ort-node ms (b1 / b8) | top-1 agreement with our engine (${n} images) |`, '|---|---:|---:|---:|',
  `| FP32 source | ${mib(statSync(modelPath).size)} | ${fp.ms1.toFixed(1)} / ${fp.ms8.toFixed(1)} | (FP32) |`];
for (const run of report.runs as { method: string; bits: string; bitsW: number; quantParams: ViTQuantParams }[]) {
  const runner = new QuantViTRunner(ctx, model, run.quantParams);
  const engine = await runner.forward(pixels, n);
  runner.dispose();
  const formats: [string, ExportOptions][] = [['QDQ opset 13 (int8 codes)', { format: 'qdq', opset: 13 }]];
  if (run.bitsW <= 4) formats.push(['QDQ opset 21 (int4 codes)', { format: 'qdq', opset: 21, int4Weights: true }]);
  formats.push(['FP32 + fake-quant weights', { format: 'fake-quant-weights', opset: 17 }]);
  for (const [label, o] of formats) {
    const built = buildQuantizedOnnx(model, run.quantParams, o);
    log(`${run.method} ${run.bits} ${label}: ${mib(built.bytes.length)} MiB, running…`);
    const r = await ortRun(built.bytes, pixels, n);
    let agree = 0;
    for (let i = 0; i < n; i++) if (argmax(r.logits, i) === argmax(engine, i)) agree++;
    rows.push(`| ${run.method} ${run.bits.toUpperCase()} ${label} | ${mib(built.bytes.length)} | ${r.ms1.toFixed(1)} / ${r.ms8.toFixed(1)} | ${(100 * agree / n).toFixed(1)}% |`);
  }
}
process.stdout.write(`${rows.join('\n')}\n`);
ctx.dispose();
