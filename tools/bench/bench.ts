/**
 * `npm run bench`: latency of our engine vs onnxruntime (web WebGPU, web WASM, node CPU) on the same
 * adapters, with a correctness check of every runtime against ort-node on the same input, so that a
 * fast-but-wrong figure cannot pass. Progress goes to stderr; the table to stdout and bench-results/.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Engine } from '../../src/engine/engine.ts';
import { importViT } from '../../src/engine/onnx/import-vit.ts';
import { measure, type MeasureOptions } from '../../src/bench/measure.ts';
import type { PageRuntime } from '../../src/bench/bench-page.ts';
import { randomPixels, type PixelSpec } from '../../src/bench/pixels.ts';
import { startBrowserBench, type BrowserBench } from './browser.ts';
import { modelExists, parseOptions, type BenchModel } from './options.ts';
import { markdownTable, maxAbsDiff, writeJson, type Cell, type Row, type RuntimeKey } from './report.ts';

const started = performance.now();
const log = (m: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${m}\n`);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const opts = parseOptions(process.argv.slice(2));
const measureOpts: MeasureOptions = { runs: opts.runs, budgetMs: opts.budgetMs };
const adapters: Record<string, string> = {};
const rows: Row[] = [];
const references = new Map<Row, Float32Array>();

/** Input shape and normalisation per model, read by our importer (no GPU needed). */
function pixelSpecs(bytes: Uint8Array): (batch: number) => PixelSpec {
  const c = importViT(bytes).config;
  const mean = c.preprocessing?.mean ?? Array(c.inChannels).fill(0.5);
  const std = c.preprocessing?.std ?? Array(c.inChannels).fill(0.5);
  return (batch) => ({ seed: opts.seed + batch, batch, channels: c.inChannels, size: c.imageSize, mean, std });
}

/** Runs one cell: the result (or the error) lands in the row, and the runtime's output is checked. */
async function cell(row: Row, key: RuntimeKey, work: () => Promise<{ medianMs: number; timesMs: number[]; warmupMs: number; output: ArrayLike<number> }>) {
  log(`${row.model} b${row.batch} ${key}…`);
  let c: Cell;
  try {
    const m = await withTimeout(work(), opts.cellTimeoutMs, `${key} ${row.model} b${row.batch}`);
    const ref = references.get(row);
    if (key === 'ort-node') references.set(row, Float32Array.from(m.output));
    c = { medianMs: m.medianMs, timesMs: m.timesMs, warmupMs: m.warmupMs, maxAbsDiff: key === 'ort-node' ? 0 : ref ? maxAbsDiff(m.output, ref) : null };
    log(`  ${c.medianMs!.toFixed(1)} ms median of ${m.timesMs.length} (warm-up ${m.warmupMs.toFixed(0)} ms), max|Δ| ${c.maxAbsDiff}`);
  } catch (e) {
    c = { error: errorText(e) };
    log(`  failed: ${c.error}`);
  }
  row.cells[key] = c;
}

async function benchNode(model: BenchModel, bytes: Uint8Array, spec: (b: number) => PixelSpec, modelRows: Row[], engine: Engine | Error) {
  // ort-node first: its outputs are the reference for every other runtime.
  let session: ort.InferenceSession | Error;
  try { session = await ort.InferenceSession.create(model.path); } catch (e) { session = e as Error; }
  for (const row of modelRows) {
    const sp = spec(row.batch);
    const px = randomPixels(sp);
    await cell(row, 'ort-node', async () => {
      if (session instanceof Error) throw session;
      const s = session;
      const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', px, [sp.batch, sp.channels, sp.size, sp.size]) };
      return measure(async () => (await s.run(feeds))[s.outputNames[0]].data as Float32Array, measureOpts);
    });
  }
  if (!(session instanceof Error)) await session.release();
  let loadError: unknown = engine instanceof Error ? engine : null;
  if (!(engine instanceof Error)) try { engine.loadModel(bytes); } catch (e) { loadError = e; }
  for (const row of modelRows) {
    const px = randomPixels(spec(row.batch));
    await cell(row, 'ours-node', async () => {
      if (loadError) throw loadError;
      return measure(() => (engine as Engine).predict(px, row.batch), measureOpts);
    });
  }
}

const PAGE_RUNTIMES: [PageRuntime, RuntimeKey][] = [['ours', 'ours-chromium'], ['ort-webgpu', 'ort-web-webgpu'], ['ort-wasm', 'ort-web-wasm']];

async function benchBrowser(bb: BrowserBench, model: BenchModel, spec: (b: number) => PixelSpec, modelRows: Row[]) {
  for (const [runtime, key] of PAGE_RUNTIMES) {
    if (key === 'ort-web-webgpu' && opts.skipOrtWebgpu) {
      for (const row of modelRows) row.cells[key] = { skipped: '--skip-ort-web-webgpu' };
      continue;
    }
    log(`${model.key}: loading ${key} in a fresh page…`);
    let page: Awaited<ReturnType<BrowserBench['open']>> | Error;
    try {
      page = await withTimeout(bb.open(runtime, model.path), opts.cellTimeoutMs, `loading ${key}`);
      adapters[key] = page.info;
      log(`  adapter: ${page.info}`);
    } catch (e) { page = e as Error; }
    let timedOut = false;
    for (const row of modelRows) {
      if (timedOut) { row.cells[key] = { skipped: 'an earlier batch timed out' }; continue; }
      await cell(row, key, async () => {
        if (page instanceof Error) throw page;
        return page.run(spec(row.batch), measureOpts);
      });
      // The page may still be busy with the timed-out batch; later batches would only queue behind it.
      timedOut = /timed out/.test(row.cells[key]?.error ?? '');
    }
    if (!(page instanceof Error)) await page.close().catch(() => {});
  }
}

async function main() {
  const models = opts.models.filter((m) => modelExists(m) || (console.log(`Skipping ${m.key}: ${m.path} not found.`), false));
  const loaded = models.flatMap((m) => {
    const modelRows = opts.batches.map((batch): Row => ({ model: m.key, batch, cells: {} }));
    rows.push(...modelRows);
    try {
      const bytes = new Uint8Array(readFileSync(m.path));
      return [{ m, bytes, spec: pixelSpecs(bytes), modelRows }];
    } catch (e) {
      for (const r of modelRows) r.cells['ours-node'] = { error: `import: ${errorText(e)}` };
      return [];
    }
  });

  let engine: Engine | Error;
  try { engine = await Engine.create(); adapters['ours-node'] = engine.adapterInfo; } catch (e) { engine = e as Error; }
  log(`Node adapter: ${adapters['ours-node'] ?? errorText(engine)}`);
  for (const { m, bytes, spec, modelRows } of loaded) await benchNode(m, bytes, spec, modelRows, engine);
  if (!(engine instanceof Error)) engine.dispose();

  if (opts.skipBrowser) {
    for (const r of rows) for (const k of ['ours-chromium', 'ort-web-webgpu', 'ort-web-wasm'] as const) r.cells[k] = { skipped: '--skip-browser' };
  } else if (loaded.length) {
    let bb: BrowserBench | null = null;
    // Ctrl-C must not leave Chromium (and its SwiftShader threads) running.
    const onSignal = () => { void (bb?.close() ?? Promise.resolve()).finally(() => process.exit(130)); };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      bb = await startBrowserBench(loaded.map((l) => l.m.path), log);
      for (const { m, spec, modelRows } of loaded) await benchBrowser(bb, m, spec, modelRows);
    } catch (e) {
      log(`browser phase failed: ${errorText(e)}`);
      for (const r of rows) for (const k of ['ours-chromium', 'ort-web-webgpu', 'ort-web-wasm'] as const) r.cells[k] ??= { error: `browser: ${errorText(e)}` };
    } finally {
      await bb?.close();
    }
  }

  adapters['ort-node'] = `onnxruntime-node ${ort.env.versions.common} CPU EP (default threads)`;
  console.log(`\nAdapters and runtimes:`);
  for (const [k, v] of Object.entries(adapters)) console.log(`- ${k}: ${v}`);
  console.log(`\nMethod: 1 warm-up run, then the median of up to ${opts.runs} timed runs (stopping once they exceed ${opts.budgetMs / 1000} s); n = runs in the median;` +
    ` Δ = max |logit − ort-node logit| on the same seeded input. Ratios above 1 mean our engine is faster.\n`);
  console.log(markdownTable(rows));
  writeJson(opts.out, opts, adapters, rows);
  console.log(`\nWrote ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all).`);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
