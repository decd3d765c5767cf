/**
 * The run an imported adfq-studio export stands for: its quantizers (params read from the file) in the
 * results table, so the explorer's level overlay and site info work for it as for a run calibrated here.
 * It has no per-site errors (those are measured during calibration) and no accuracy until evaluated.
 */
import type { Accuracy } from '../engine/eval/metrics.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import { DEFAULT_QUANTIZE_SETTINGS, METHODS, type Method, type QuantizeSettings } from '../engine/quant/settings.ts';
import type { ImportedQuantization, LoadedModel } from '../worker/protocol.ts';
import type { QuantRun } from './store.ts';

const NO_ACCURACY: Accuracy = { top1: 0, top5: 0, count: 0, correct1: 0, correct5: 0 };

/** The file's settings, or (when the exporter was not told them) the defaults with the file's bits and method. */
function settingsOf(q: ImportedQuantization): QuantizeSettings {
  if (q.settings) return q.settings;
  const method = (METHODS as readonly string[]).includes(q.summary.method) ? q.summary.method as Method : DEFAULT_QUANTIZE_SETTINGS.method;
  return { ...DEFAULT_QUANTIZE_SETTINGS, method, bitsW: q.summary.bitsW, bitsA: q.summary.bitsA };
}

/** 'adfq export: W4A4 adfq (qdq, opset 13)' */
export const fileQuantLabel = (q: ImportedQuantization) => `adfq export: ${q.summary.label} (${q.summary.format}, opset ${q.summary.opset})`;

/** Evaluation-set key of a file run before it is evaluated: no FP32 row shares it. */
export const pendingEvalSet = (generation: number) => `file/${generation}/not evaluated`;

/** The loaded model's file run (id `id`), or null for a plain model. */
export function fileRunOf(model: LoadedModel | null, id: number, generation: number, spec: PreprocessSpec | null): QuantRun | null {
  const q = model?.quantization;
  if (!q || !spec) return null;
  return {
    id, label: `From file: ${q.summary.label}`, settings: settingsOf(q), calibImages: 0, evalImages: 0, evalSet: pendingEvalSet(generation),
    fp32: NO_ACCURACY, quantized: NO_ACCURACY, seconds: 0,
    timings: { calibrationSeconds: 0, optimisationSeconds: 0, fp32EvalSeconds: 0, quantizedEvalSeconds: 0, totalSeconds: 0 },
    backend: 'gpu', sites: [], params: q.params, skipped: [], spec, calibNames: [], predictions: [], finishedAt: new Date().toISOString(),
    fromFile: { summary: q.summary, evaluated: false },
  };
}
