/**
 * The worker's `quantize` request, the studio's twin of `adfq quantize` (src/cli/commands/quantize.ts):
 * split the images (split-images.ts), decode the calibration part, calibrate, optimise module-wise on the
 * same images when the settings ask for ASMO (its events streamed as they come), then evaluate FP32 and
 * the fake-quantized model on the same evaluation images. Only plain data is returned; the quantized
 * runner lives for the evaluation and is disposed here.
 */
import { decodeHeldOut } from '../engine/asmo/held-out.ts';
import { runAsmo } from '../engine/asmo/optimize.ts';
import { liveEvent, type AsmoCheckpoint, type AsmoLiveEvent } from '../engine/asmo/settings.ts';
import type { Engine } from '../engine/engine.ts';
import { AdfqError, CancelledError, UsageError } from '../engine/errors.ts';
import { evaluate, type EvalResult, type ImageSource, type SkippedImage } from '../engine/eval/evaluate.ts';
import { decodeAll } from '../engine/eval/image-batches.ts';
import type { Accuracy } from '../engine/eval/metrics.ts';
import type { PreprocessSpec } from '../engine/image/index.ts';
import { QuantViTRunner } from '../engine/model/quant-runner.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import { calibrate, type QuantizeSettings } from '../engine/quant/quantize.ts';
import type { QuantizeRunResult, RunPrediction, WorkerImage } from './protocol.ts';
import { splitImages } from './split-images.ts';
import { evalBatchReporter, type AsmoDone, type CalibrationCheckpoint, type EvalPhase, type RunCheckpoint, type RunResume } from './run-checkpoint.ts';

export interface QuantizeJob {
  images: WorkerImage[];
  spec: PreprocessSpec;
  batchSize: number;
  calibSize: number;
  settings: QuantizeSettings;
  signal: AbortSignal;
  onProgress(done: number, total: number, phase: string): void;
  /** Every event of the module-wise optimisation, in order. */
  onAsmoEvent?(e: AsmoLiveEvent): void;
  /** Awaited between optimisation steps: resolves when the user resumes. */
  waitIfPaused?(): Promise<void>;
  /** What an interrupted run of the same request had finished (run-checkpoint.ts); those stages are skipped. */
  resume?: RunResume;
  /** Each finished stage, module and evaluation batch, as it happens. */
  onCheckpoint?(c: RunCheckpoint): void;
  /** What changed how the run goes on (out of memory: a smaller evaluation batch). */
  onNotice?(message: string): void;
}

/** Evaluation images measured after each block for ASMO's accuracy-so-far curve (they stay in the final evaluation too). */
export const HELD_OUT_IMAGES = 64;

/** The page's images (bytes already in memory) as the engine's image sources. */
export const sourcesOf = (images: WorkerImage[]): ImageSource[] => images.map((im) => ({ name: im.name, label: im.label, load: async () => im.bytes }));

/**
 * FP32 (engine.predict) and then the quantized model (a QuantViTRunner on `params`, disposed here) on the
 * same images: the second half of a quantize run, and all of an imported export's evaluation.
 */
export async function evaluateFp32AndQuantized(engine: Engine, params: ViTQuantParams,
                                               o: { sources: ImageSource[]; spec: PreprocessSpec; batchSize: number; signal: AbortSignal;
                                                    onProgress(done: number, total: number, phase: EvalPhase): void;
                                                    resume?: RunResume; onCheckpoint?(c: RunCheckpoint): void; onNotice?(message: string): void }): Promise<{ fp: EvalResult; q: EvalResult }> {
  const send = o.onCheckpoint;
  const evalWith = (predict: Parameters<typeof evaluate>[0]['predict'], phase: EvalPhase) => evaluate({
    sources: o.sources, predict, spec: o.spec, numClasses: engine.model.config.numClasses, batchSize: o.batchSize, signal: o.signal,
    onProgress: (done, total) => o.onProgress(done, total, phase), resume: o.resume?.[phase],
    onCheckpoint: send && evalBatchReporter(phase, send, o.resume?.[phase]), onNotice: o.onNotice,
  });
  const fp = await evalWith(engine.predict, 'fp32');
  const runner = new QuantViTRunner(engine.gpu, engine.model, params);
  try {
    return { fp, q: await evalWith((px, b) => runner.forward(px, b), 'quantized') };
  } finally {
    runner.dispose();
  }
}

export const accuracyOf = (r: EvalResult): Accuracy => ({ top1: r.top1, top5: r.top5, count: r.count, correct1: r.correct1, correct5: r.correct5 });

/**
 * Decoding (and any CPU-only stretch of calibration) does not yield to the message loop: let a `cancel`
 * that arrived meanwhile be handled before the next stage starts.
 */
async function checkCancelled(signal: AbortSignal): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (signal.aborted) throw new CancelledError('Quantization cancelled.');
}

export async function runQuantize(engine: Engine, job: QuantizeJob): Promise<QuantizeRunResult> {
  const started = performance.now(), { images, spec, signal } = job, n = job.calibSize, resume = job.resume ?? {};
  if (!images.length) throw new UsageError('There are no images to calibrate and evaluate on; add some first.');
  if (!(Number.isInteger(n) && n >= 1 && n < images.length)) {
    throw new UsageError(`The calibration size must be a whole number from 1 to ${images.length - 1} (the rest of the ${images.length} images are evaluated), not ${n}.`);
  }
  const model = engine.model, split = splitImages(images, n), send = job.onCheckpoint ?? (() => {});
  // On resume the calibration images are decoded again only if calibration or the optimisation still needs them.
  const needPixels = !resume.asmoDone && (!resume.calibration || job.settings.asmo);
  if (needPixels) job.onProgress(0, split.calib.length, 'decoding');
  const decoded = needPixels ? await decodeAll(sourcesOf(split.calib), spec) : null;
  if (decoded && !decoded.n) throw new UsageError(`None of the ${split.calib.length} calibration images could be decoded.`);
  await checkCancelled(signal);

  let cal = resume.calibration;
  if (!cal) {
    const c = await calibrate(engine.gpu, model, decoded!.pixels, decoded!.n, job.settings, {
      // The engine's steps ('weights', 'block 3: fc1-in', …) as 'calibrating: <step>'.
      signal, onProgress: (done, total, step) => job.onProgress(done, total, step === 'done' ? 'calibrating' : `calibrating: ${step}`),
    });
    const { memory: _memory, ...rest } = c;
    cal = { ...rest, calibNames: decoded!.names, skipped: decoded!.skipped };
    send({ stage: 'calibrated', calibration: cal });
    await checkCancelled(signal);
  }

  let params = cal.params, asmoDone = resume.asmoDone;
  if (job.settings.asmo && !asmoDone) {
    asmoDone = await optimise(engine, job, cal, decoded!, split.evaluate, resume.asmo);
    send({ stage: 'asmo-done', done: asmoDone });
    await checkCancelled(signal);
  }
  if (asmoDone) params = asmoDone.params;

  const sources = sourcesOf(split.evaluate);
  const { fp, q } = await evaluateFp32AndQuantized(engine, params, {
    sources, spec, batchSize: job.batchSize, signal, onProgress: job.onProgress, resume, onCheckpoint: send, onNotice: job.onNotice,
  });
  return {
    settings: cal.settings, params, sites: cal.sites, calibImages: cal.calibImages, evalImages: sources.length,
    fp32: accuracyOf(fp), quantized: accuracyOf(q), skipped: [...cal.skipped, ...fp.skipped], backend: cal.backend,
    ...(asmoDone ? { asmo: asmoDone.summary } : {}),
    timings: { calibrationSeconds: cal.seconds, optimisationSeconds: asmoDone?.seconds ?? 0, fp32EvalSeconds: fp.seconds, quantizedEvalSeconds: q.seconds,
      totalSeconds: (performance.now() - started) / 1000 },
    calibNames: cal.calibNames, predictions: pairPredictions(fp, q),
  };
}

type DecodedCalibration = Awaited<ReturnType<typeof decodeAll>>;

/** The module-wise optimisation, from the calibration or from the last finished module of an interrupted one. */
async function optimise(engine: Engine, job: QuantizeJob, cal: CalibrationCheckpoint, decoded: DecodedCalibration,
                        evaluation: WorkerImage[], from: AsmoCheckpoint | undefined): Promise<AsmoDone> {
  const t0 = performance.now(), before = from?.seconds ?? 0;
  job.onProgress(from?.finished ?? 0, from?.total ?? 1, 'optimising');
  const r = await runAsmo(engine.gpu, engine.model, {
    pixels: decoded.pixels, n: decoded.n, params: cal.params, settings: job.settings.asmo!, heldOut: await decodeHeldOut(sourcesOf(evaluation), HELD_OUT_IMAGES, job.spec),
    ...(from ? { resume: from } : {}),
  }, {
    signal: job.signal, waitIfPaused: job.waitIfPaused,
    onEvent: (e) => {
      if (e.type === 'module-start') job.onProgress(e.index, e.total, 'optimising');
      job.onAsmoEvent?.(liveEvent(e));
      if (e.type === 'module-done') job.onCheckpoint?.({ stage: 'asmo-module', asmo: e.checkpoint });
    },
  });
  return { params: r.params, summary: r.summary, seconds: before + (performance.now() - t0) / 1000 };
}

/** Both evaluations' top-1 per image; they read the same images, so the same ones decode in the same order. */
export function pairPredictions(fp: EvalResult, q: EvalResult): RunPrediction[] {
  return fp.predictions.map((p, i) => {
    const other = q.predictions[i];
    if (other?.name !== p.name) throw new AdfqError('internal', `The FP32 and quantized evaluations read different images (${p.name} vs ${other?.name}).`);
    return { name: p.name, label: p.label, fp32: p.top5[0], quantized: other.top5[0] };
  });
}
