/**
 * The export section's actions: build a run's model exports in the worker (QDQ and FP32 with fake-quantized
 * weights, with the chosen opset and int4 option), keep their sizes in the store and their bytes here, and
 * save model, JSON report or HTML summary as files. A file is saved only from bytes that are complete.
 */
import type { ExportFormat, ExportSummary } from '../engine/export/export-onnx.ts';
import { fileNamePart } from '../engine/report/format.ts';
import { runReportHtml } from '../engine/report/report-html.ts';
import { buildRunReport, runReportJson } from '../engine/report/run-report.ts';
import { asInfo, engineClient } from './actions.ts';
import { saveFile } from './download.ts';
import { bitsLabel } from './quant-labels.ts';
import { patch, useStudio, type ExportBuild, type ExportOpsetChoice, type QuantRun, type StudioState } from './store.ts';

export interface ModelExportChoice { format: ExportFormat; opset: ExportOpsetChoice; int4: boolean }

/** The two model exports of the current options: int4 weights only in QDQ at opset 21 with b_w ≤ 4. */
export function modelChoices(run: QuantRun, o: Pick<StudioState['export'], 'opset' | 'int4'>): Record<ExportFormat, ModelExportChoice> {
  return {
    qdq: { format: 'qdq', opset: o.opset, int4: o.int4 && o.opset === 21 && run.settings.bitsW <= 4 },
    'fake-quant-weights': { format: 'fake-quant-weights', opset: o.opset, int4: false },
  };
}

export const exportKey = (generation: number, runId: number, c: ModelExportChoice) => `${generation}/${runId}/${c.format}/${c.opset}/${c.int4 ? 'int4' : 'int8'}`;

/** Model name as a file-name part: the dropped file's name without '.onnx' and the demo mark. */
function modelBase(): string {
  const name = useStudio.getState().model.loaded?.name ?? 'model';
  return fileNamePart(name.replace(/ \(demo\)$/, '').replace(/\.onnx$/i, ''));
}

/** 'adfq', 'adfq-noslq', 'adfq-asmo200', 'minmax', … */
function methodPart(run: QuantRun): string {
  const s = run.settings, a = s.ablation ?? {};
  const parts = [s.method, a.ppoqQkv || a.ppoqFc1 ? 'noppoq' : '', a.slq ? 'noslq' : '', a.logProbs ? 'nolog' : '', s.asmo ? `asmo${s.asmo.iters}` : ''];
  return parts.filter(Boolean).join('-');
}

/** `<model>_<method>_<bits>` plus what the file is: `_qdq-int8-opset13.onnx`, `_fakequant-opset17.onnx`, `_report.json`, `_summary.html`. */
export function exportFileName(run: QuantRun, what: ModelExportChoice | 'report' | 'summary'): string {
  const base = `${modelBase()}_${methodPart(run)}_${bitsLabel(run.settings).toLowerCase()}`;
  if (what === 'report') return `${base}_report.json`;
  if (what === 'summary') return `${base}_summary.html`;
  return what.format === 'qdq' ? `${base}_qdq-${what.int4 ? 'int4' : 'int8'}-opset${what.opset}.onnx` : `${base}_fakequant-opset${what.opset}.onnx`;
}

// ---- Model exports: sizes in the store, bytes here (at most CACHE_BYTES; an evicted file is rebuilt, identically) ----
const CACHE_BYTES = 256 * 2 ** 20;
const cache = new Map<string, Uint8Array>();
const inFlight = new Map<string, Promise<Uint8Array | null>>();

function remember(key: string, bytes: Uint8Array): void {
  const generation = key.split('/')[0];
  for (const k of [...cache.keys()]) if (k.split('/')[0] !== generation) cache.delete(k);
  cache.set(key, bytes);
  let total = [...cache.values()].reduce((a, b) => a + b.length, 0);
  for (const [k, b] of cache) {
    if (total <= CACHE_BYTES || k === key) break;
    cache.delete(k);
    total -= b.length;
  }
}

function setBuild(key: string, b: ExportBuild): void {
  patch('export', { builds: { ...useStudio.getState().export.builds, [key]: b } });
}

/** The export's bytes, built in the worker once; null when it failed (the store holds the error) or the runs changed. */
function buildModelExport(run: QuantRun, choice: ModelExportChoice): Promise<Uint8Array | null> {
  const s = useStudio.getState(), generation = s.quantization.generation, key = exportKey(generation, run.id, choice);
  const cached = cache.get(key);
  if (cached) return Promise.resolve(cached);
  const running = inFlight.get(key);
  if (running) return running;
  const client = engineClient();
  if (!client) return Promise.resolve(null);
  const previous = s.export.builds[key];
  if (previous?.status !== 'ready') setBuild(key, { status: 'building', summary: null, error: null });
  const job = (async () => {
    try {
      const { bytes, summary } = await client.exportModel({
        params: run.params, settings: run.settings, format: choice.format, opset: choice.opset, int4Weights: choice.int4,
        preprocessing: { mean: run.spec.mean, std: run.spec.std, resize: run.spec.resize },
        metadata: { 'adfq.studio.model': s.model.loaded?.name ?? '', 'adfq.studio.run': `${run.label} ${bitsLabel(run.settings)}` },
      });
      if (useStudio.getState().quantization.generation !== generation) return null;
      remember(key, bytes);
      setBuild(key, { status: 'ready', summary, error: null });
      return bytes;
    } catch (e) {
      if (useStudio.getState().quantization.generation === generation) setBuild(key, { status: 'failed', summary: null, error: asInfo(e) });
      return null;
    } finally {
      inFlight.delete(key);
    }
  })();
  inFlight.set(key, job);
  return job;
}

/** Builds the run's QDQ and fake-quant exports (one after the other) so their sizes can be shown. */
export async function prepareModelExports(runId: number): Promise<void> {
  const s = useStudio.getState(), run = s.quantization.runs.find((r) => r.id === runId);
  if (!run || s.engine.status !== 'ready') return;
  const choices = modelChoices(run, s.export);
  for (const c of [choices.qdq, choices['fake-quant-weights']]) {
    const key = exportKey(s.quantization.generation, run.id, c);
    if (useStudio.getState().export.builds[key]?.status === 'ready' && !cache.has(key)) continue;   // size known; bytes rebuilt on download
    await buildModelExport(run, c);
  }
}

export async function downloadModelExport(runId: number, format: ExportFormat): Promise<void> {
  const s = useStudio.getState(), run = s.quantization.runs.find((r) => r.id === runId);
  if (!run) return;
  const choice = modelChoices(run, s.export)[format];
  const bytes = await buildModelExport(run, choice);
  if (bytes) saveFile(exportFileName(run, choice), bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
}

export function setExportOptions(o: Partial<Pick<StudioState['export'], 'opset' | 'int4'>>): void {
  const cur = useStudio.getState().export, next = { ...cur, ...o };
  // int4 needs opset 21: choosing it moves the opset there; another opset turns it off.
  if (o.int4) next.opset = 21;
  else if (o.opset !== undefined && o.opset !== 21) next.int4 = false;
  patch('export', { opset: next.opset, int4: next.int4 });
}

// ---- Reports: built in the page from the run (plain data), memoised per run and export sizes ----
export interface RunReportFiles { json: Uint8Array; html: Uint8Array }
const reports = new WeakMap<QuantRun, { key: string; files: RunReportFiles }>();

/** The run's JSON report and HTML summary as UTF-8 bytes, with the sizes of the exports built for the current options. */
export function runReportFiles(run: QuantRun, exports: { qdq?: ExportSummary; fakeQuant?: ExportSummary }): RunReportFiles | null {
  const s = useStudio.getState(), model = s.model.loaded;
  if (!model) return null;
  const key = JSON.stringify([exports.qdq?.fileBytes, exports.qdq?.opset, exports.qdq?.storage, exports.fakeQuant?.fileBytes, exports.fakeQuant?.opset]);
  const hit = reports.get(run);
  if (hit?.key === key) return hit.files;
  const report = buildRunReport({
    run, model: { name: model.name, summary: model.summary, labels: model.labels }, preprocessing: run.spec, adapter: s.engine.adapter,
    split: `the first ${run.calibImages} images taken round-robin over the classes calibrate; the other ${run.evalImages} are evaluated`,
    exports, createdAt: run.finishedAt,
  });
  const enc = new TextEncoder(), files = { json: enc.encode(runReportJson(report)), html: enc.encode(runReportHtml(report)) };
  reports.set(run, { key, files });
  return files;
}

export function downloadReport(run: QuantRun, files: RunReportFiles, kind: 'json' | 'html'): void {
  if (kind === 'json') saveFile(exportFileName(run, 'report'), files.json as Uint8Array<ArrayBuffer>, 'application/json');
  else saveFile(exportFileName(run, 'summary'), files.html as Uint8Array<ArrayBuffer>, 'text/html');
}
