/**
 * The typed messages between the page and the engine worker. Only plain data crosses: summaries,
 * numbers, bytes; GPU handles never leave the worker.
 */
import type { AsmoLiveEvent } from '../engine/asmo/settings.ts';
import type { EvalProgress, EvalResult, SkippedImage } from '../engine/eval/evaluate.ts';
import type { RunCheckpoint, RunResume } from './run-checkpoint.ts';
import type { ExportFormat, ExportOpset, ExportSummary } from '../engine/export/export-onnx.ts';
import type { Accuracy } from '../engine/eval/metrics.ts';
import type { quantizationSummary } from '../engine/onnx/import-export.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import type { ReportPrediction, ReportRunInput } from '../engine/report/run-report.ts';
import type { QuantizeSettings } from '../engine/quant/quantize.ts';
import type { SiteId, SiteStats, StatsSettings, StatsSummary } from '../engine/stats/types.ts';
import type { ModelSummary } from '../engine/vit/summary.ts';

export interface WorkerImage { name: string; label: number | null; bytes: Uint8Array }

export type Request =
  | { kind: 'init'; id: number }
  | { kind: 'load-model'; id: number; name: string; bytes: Uint8Array }
  /** `resume`: an interrupted evaluation of the same images and batch size (its finished batches are kept). */
  | { kind: 'evaluate'; id: number; images: WorkerImage[]; spec: PreprocessSpec; batchSize: number; resume?: EvalProgress }
  | { kind: 'collect-stats'; id: number; images: WorkerImage[]; spec: PreprocessSpec; batchSize: number; settings: StatsSettings }
  | { kind: 'site-stats'; id: number; site: SiteId }
  /**
   * Calibrates on the first `calibSize` images of the split, optimises module-wise on them when
   * `settings.asmo` is set (streaming `asmo-event`s), then evaluates FP32 and quantized on the rest.
   */
  | { kind: 'quantize'; id: number; images: WorkerImage[]; spec: PreprocessSpec; batchSize: number; calibSize: number; settings: QuantizeSettings;
      /** What an interrupted run of this same request had finished (run-checkpoint.ts). */
      resume?: RunResume }
  /**
   * Writes the loaded model quantized by `params` (a finished run's, kept by the page) as ONNX, whole, in
   * memory; answers with the file's bytes and its sizes. `preprocessing` (the run's) goes into the metadata.
   */
  | { kind: 'export'; id: number; params: ViTQuantParams; settings: QuantizeSettings; format: ExportFormat; opset: ExportOpset;
      int4Weights: boolean; preprocessing: { mean: number[]; std: number[]; resize: number }; metadata: Record<string, string> }
  /**
   * Evaluates the loaded model with `params` (no calibration: an imported export's own quantizers) on all
   * the images, FP32 (the loaded weights with FP32 activations) and quantized, on the same tensors.
   */
  | { kind: 'evaluate-quantized'; id: number; images: WorkerImage[]; spec: PreprocessSpec; batchSize: number; params: ViTQuantParams }
  | { kind: 'cancel'; id: number; target: number }
  /** Holds a running request's module-wise optimisation between two steps (paused) or lets it go on. */
  | { kind: 'pause'; id: number; target: number; paused: boolean }
  /** Tests only: destroys the device, as a driver reset or GPU process crash would. */
  | { kind: 'debug-lose-device'; id: number };

/** What an `export` request asks for. */
export type ExportJob = Omit<Extract<Request, { kind: 'export' }>, 'kind' | 'id'>;

export interface ErrorInfo { code: string; message: string }

export interface LoadedModel {
  name: string;
  summary: ModelSummary;
  labels: string[] | null;
  warnings: string[];
  /** An adfq-studio export's quantizers (plain data), or null for a plain model. */
  quantization: ImportedQuantization | null;
}

/** The quantizers an adfq-studio export carries, read back by the engine's importer. */
export interface ImportedQuantization {
  summary: ReturnType<typeof quantizationSummary>;
  params: ViTQuantParams;
  /** The run's settings as the file states them; null when the exporter was not told. */
  settings: QuantizeSettings | null;
}

/** An `evaluate-quantized` answer: both evaluations of the same images, with every image's top-1. */
export interface QuantEvalResult {
  evalImages: number;
  fp32: Accuracy;
  quantized: Accuracy;
  skipped: SkippedImage[];
  predictions: RunPrediction[];
  fp32Seconds: number;
  quantizedSeconds: number;
}

/**
 * One finished quantization run, as plain data (the params are numbers and arrays only): what a run report
 * is built from (engine/report's ReportRunInput, whose fields say what each holds), less the page's label.
 */
export interface QuantizeRunResult extends Omit<ReportRunInput, 'label' | 'calibNames' | 'predictions'> {
  calibNames: string[];
  predictions: RunPrediction[];
}

export type RunPrediction = ReportPrediction;

/** Seconds per stage of a quantize request; `optimisationSeconds` is 0 without ASMO. */
export type QuantizeTimings = ReportRunInput['timings'];

export type Response =
  | { kind: 'ready'; id: number; adapter: string; isSoftware: boolean; maxBindingBytes: number; maxBufferBytes: number }
  | { kind: 'model'; id: number; model: LoadedModel }
  | { kind: 'progress'; id: number; done: number; total: number; phase?: string }
  | { kind: 'stats-summary'; id: number; summary: StatsSummary }
  | { kind: 'site-stats'; id: number; stats: SiteStats }
  | { kind: 'eval-result'; id: number; result: EvalResult }
  /** One event of a running module-wise optimisation (module start, loss points, finished module, accuracy so far). */
  | { kind: 'asmo-event'; id: number; event: AsmoLiveEvent }
  /** A finished stage, ASMO module or evaluation batch of a long request: enough to resume it from there. */
  | { kind: 'checkpoint'; id: number; checkpoint: RunCheckpoint }
  /** Something that did not stop a running request but changed how it runs (out of memory: a smaller batch). */
  | { kind: 'notice'; id: number; message: string }
  | { kind: 'quant-result'; id: number; result: QuantizeRunResult }
  | { kind: 'quant-eval-result'; id: number; result: QuantEvalResult }
  | { kind: 'export-result'; id: number; bytes: Uint8Array; summary: ExportSummary }
  | { kind: 'error'; id: number; error: ErrorInfo }
  | { kind: 'device-lost'; id: 0; error: ErrorInfo };
