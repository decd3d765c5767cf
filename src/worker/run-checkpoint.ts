/**
 * What a long request has finished so far, as plain data: the worker sends it piece by piece while it works,
 * the page folds the pieces into one `RunResume` (applyCheckpoint), keeps it in IndexedDB, and sends it back
 * with the same request after a device loss or a reload, so the work is picked up where it stopped:
 * evaluation after its last finished batch, a quantize run after calibration, after its last finished ASMO
 * module, or inside its evaluations. Every stage is deterministic, so a resumed run gives the result an
 * uninterrupted one would.
 */
import type { AsmoCheckpoint, AsmoSummary } from '../engine/asmo/settings.ts';
import type { EvalProgress, SkippedImage } from '../engine/eval/evaluate.ts';
import type { Prediction } from '../engine/eval/metrics.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import type { CalibrationResult } from '../engine/quant/quantize.ts';

/** A quantize run's calibration, whole: what the rest of the run (and the report) needs of it. */
export interface CalibrationCheckpoint extends Omit<CalibrationResult, 'memory'> {
  calibNames: string[];
  /** Calibration images that could not be read. */
  skipped: SkippedImage[];
}

/** A finished module-wise optimisation (the last AsmoCheckpoint has its params; the summary adds timings). */
export interface AsmoDone { params: ViTQuantParams; summary: AsmoSummary; seconds: number }

export type EvalPhase = 'fp32' | 'quantized';

/** Everything an interrupted run had finished. An empty one ({}) starts from the beginning. */
export interface RunResume {
  calibration?: CalibrationCheckpoint;
  /** After the last finished module of a running optimisation. */
  asmo?: AsmoCheckpoint;
  asmoDone?: AsmoDone;
  fp32?: EvalProgress;
  quantized?: EvalProgress;
}

/** One piece of progress, as the worker sends it; evaluation batches send only what is new. */
export type RunCheckpoint =
  | { stage: 'calibrated'; calibration: CalibrationCheckpoint }
  | { stage: 'asmo-module'; asmo: AsmoCheckpoint }
  | { stage: 'asmo-done'; done: AsmoDone }
  | { stage: 'eval-batch'; phase: EvalPhase; consumed: number; seconds: number; predictions: Prediction[]; skipped: SkippedImage[] };

export function applyCheckpoint(r: RunResume, c: RunCheckpoint): RunResume {
  switch (c.stage) {
    case 'calibrated': return { calibration: c.calibration };
    case 'asmo-module': return { ...r, asmo: c.asmo };
    case 'asmo-done': return { calibration: r.calibration, asmoDone: c.done };
    case 'eval-batch': {
      const before = r[c.phase];
      return {
        ...r,
        [c.phase]: {
          consumed: c.consumed, seconds: c.seconds,
          predictions: [...(before?.predictions ?? []), ...c.predictions], skipped: [...(before?.skipped ?? []), ...c.skipped],
        },
      };
    }
  }
}

/** Turns an evaluation's cumulative checkpoints into 'eval-batch' pieces (only the new predictions and skips). */
export function evalBatchReporter(phase: EvalPhase, send: (c: RunCheckpoint) => void, resumed?: EvalProgress): (p: EvalProgress) => void {
  let sentPredictions = resumed?.predictions.length ?? 0, sentSkipped = resumed?.skipped.length ?? 0;
  return (p) => {
    send({ stage: 'eval-batch', phase, consumed: p.consumed, seconds: p.seconds,
      predictions: p.predictions.slice(sentPredictions), skipped: p.skipped.slice(sentSkipped) });
    sentPredictions = p.predictions.length;
    sentSkipped = p.skipped.length;
  };
}

/** A sentence saying where a resumed run starts again, for the UI. */
export function resumePoint(r: RunResume): string | null {
  if (r.quantized) return `quantized evaluation after ${r.quantized.consumed} images`;
  if (r.fp32) return `FP32 evaluation after ${r.fp32.consumed} images`;
  if (r.asmoDone) return 'evaluation (optimisation finished)';
  if (r.asmo) return `optimisation after module ${r.asmo.finished} of ${r.asmo.total}`;
  if (r.calibration) return 'optimisation or evaluation (calibration finished)';
  return null;
}
