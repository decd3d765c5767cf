/**
 * The JSON report of one quantization run as the studio keeps it: every quantizer parameter, the settings
 * (ASMO's and its seed included), timings, per-site errors, accuracies, ASMO's loss curves and accuracy so
 * far, each evaluated image's top-1, and the export sizes when the exports were built. The HTML summary
 * (report-html.ts) is a view of this object. Plain data in, plain data out: no GPU, no UI.
 */
import type { AsmoSummary } from '../asmo/settings.ts';
import type { SkippedImage } from '../eval/image-batches.ts';
import type { Accuracy } from '../eval/metrics.ts';
import type { ExportSummary } from '../export/export-onnx.ts';
import type { PreprocessSpec } from '../image/transform.ts';
import type { ViTQuantParams } from '../quant/params.ts';
import type { QuantizeSettings } from '../quant/settings.ts';
import type { SiteQuantReport } from '../quant/quantize.ts';
import { siteName } from '../quant/sites.ts';
import type { ModelSummary } from '../vit/summary.ts';

export const RUN_REPORT_KIND = 'adfq-studio run report';
export const RUN_REPORT_VERSION = 1;

/** One finished run, as the studio's store (or any caller) holds it. */
export interface ReportRunInput {
  label: string;
  settings: QuantizeSettings;
  params: ViTQuantParams;
  sites: SiteQuantReport[];
  /** Images the quantizers were calibrated on (those of the split that decoded). */
  calibImages: number;
  /** Images evaluated (the rest of the split), FP32 and quantized on exactly the same tensors. */
  evalImages: number;
  fp32: Accuracy;
  quantized: Accuracy;
  /** Seconds per stage; `optimisationSeconds` is 0 without ASMO. */
  timings: { calibrationSeconds: number; optimisationSeconds: number; fp32EvalSeconds: number; quantizedEvalSeconds: number; totalSeconds: number };
  backend: 'cpu' | 'gpu';
  /** Module-wise optimisation, when the settings asked for it: its curves, rounding, accuracy so far. */
  asmo?: AsmoSummary;
  /** Calibration images that did not decode, then evaluation images that did not. */
  skipped: SkippedImage[];
  /** Names of the calibration images that decoded, in the order they were used. */
  calibNames?: string[];
  /** Top-1 of every evaluated image, FP32 and quantized (same order, same tensors). */
  predictions?: ReportPrediction[];
}

/** Top-1 class index of one evaluated image, FP32 and quantized. */
export interface ReportPrediction { name: string; label: number | null; fp32: number; quantized: number }

export interface ReportInput {
  run: ReportRunInput;
  model: { name: string; summary: ModelSummary; labels: string[] | null };
  preprocessing: PreprocessSpec;
  /** How calibration and evaluation images were chosen, in a sentence. */
  split: string;
  adapter: string | null;
  exports?: { qdq?: ExportSummary; fakeQuant?: ExportSummary };
  /** ISO time; defaults to now. */
  createdAt?: string;
}

export interface RunReport {
  kind: typeof RUN_REPORT_KIND;
  version: number;
  createdAt: string;
  adapter: string | null;
  model: { name: string; family: string; imageSize: number; patch: number; inChannels: number; dim: number; depth: number; heads: number;
    mlpDim: number; numClasses: number; tokens: number; parameters: number; fp32Bytes: number; classNames: string[] | null };
  preprocessing: { resize: number; crop: number; mean: number[]; std: number[]; channels: number };
  data: { split: string; calibImages: number; evalImages: number; calibFiles: string[]; skipped: SkippedImage[] };
  run: { label: string; method: string; bits: string; bitsW: number; bitsA: number; settings: QuantizeSettings;
    /** ASMO's seed (mini-batches, QDrop); calibration itself draws nothing at random. */
    seed: number | null; searches: 'cpu' | 'gpu' };
  accuracy: { fp32: Accuracy; quantized: Accuracy; deltaTop1: number; deltaTop5: number };
  timings: ReportRunInput['timings'];
  sizes: { fp32ModelBytes: number; qdq: ExportSummary | null; fakeQuant: ExportSummary | null };
  sites: (SiteQuantReport & { name: string })[];
  asmo: AsmoSummary | null;
  predictions: ReportPrediction[];
  /** Every quantizer parameter of the run (weights per column, activations per site, AdaRound masks). */
  quantParams: ViTQuantParams;
}

export function buildRunReport(input: ReportInput): RunReport {
  const { run, model, preprocessing: p } = input, s = model.summary;
  return {
    kind: RUN_REPORT_KIND, version: RUN_REPORT_VERSION, createdAt: input.createdAt ?? new Date().toISOString(), adapter: input.adapter,
    model: { name: model.name, family: s.family, imageSize: s.imageSize, patch: s.patch, inChannels: s.inChannels, dim: s.dim, depth: s.depth,
      heads: s.heads, mlpDim: s.mlpDim, numClasses: s.numClasses, tokens: s.tokens, parameters: s.parameters, fp32Bytes: s.weightBytes,
      classNames: model.labels },
    preprocessing: { resize: p.resize, crop: p.imageSize, mean: p.mean, std: p.std, channels: p.channels ?? 3 },
    data: { split: input.split, calibImages: run.calibImages, evalImages: run.evalImages, calibFiles: run.calibNames ?? [], skipped: run.skipped },
    run: { label: run.label, method: run.settings.method, bits: `W${run.settings.bitsW}A${run.settings.bitsA}`, bitsW: run.settings.bitsW,
      bitsA: run.settings.bitsA, settings: run.settings, seed: run.settings.asmo?.seed ?? null, searches: run.backend },
    accuracy: { fp32: run.fp32, quantized: run.quantized, deltaTop1: run.quantized.top1 - run.fp32.top1, deltaTop5: run.quantized.top5 - run.fp32.top5 },
    timings: run.timings,
    sizes: { fp32ModelBytes: s.weightBytes, qdq: input.exports?.qdq ?? null, fakeQuant: input.exports?.fakeQuant ?? null },
    sites: run.sites.map((x) => ({ name: siteName(x.site), ...x })),
    asmo: run.asmo ?? null,
    predictions: run.predictions ?? [],
    quantParams: run.params,
  };
}

/** The report as JSON text; an infinite SQNR (a lossless site) is written "Infinity", as `adfq quantize --report` does. */
export function runReportJson(report: RunReport): string {
  return `${JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v), 1)}\n`;
}
