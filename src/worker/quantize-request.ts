/**
 * The worker's `quantize` request, the studio's twin of `adfq quantize` (src/cli/commands/quantize.ts):
 * split the images (split-images.ts), decode the calibration part, calibrate, optimise module-wise on the
 * same images when the settings ask for ASMO (its events streamed as they come), then evaluate FP32 and
 * the fake-quantized model on the same evaluation images. Only plain data is returned; the quantized
 * runner lives for the evaluation and is disposed here.
 */
import { runAsmo, type HeldOutImages } from '../engine/asmo/optimize.ts';
import type { AsmoEvent, AsmoSummary } from '../engine/asmo/settings.ts';
import type { Engine } from '../engine/engine.ts';
import { AdfqError, CancelledError, UsageError } from '../engine/errors.ts';
import { evaluate, type EvalResult, type ImageSource, type SkippedImage } from '../engine/eval/evaluate.ts';
import type { Accuracy } from '../engine/eval/metrics.ts';
import { imageBytesToTensor, type PreprocessSpec } from '../engine/image/index.ts';
import { QuantViTRunner } from '../engine/model/quant-runner.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import { calibrate, type QuantizeSettings } from '../engine/quant/quantize.ts';
import type { QuantizeRunResult, RunPrediction, WorkerImage } from './protocol.ts';
import { splitImages } from './split-images.ts';

export interface QuantizeJob {
  images: WorkerImage[];
  spec: PreprocessSpec;
  batchSize: number;
  calibSize: number;
  settings: QuantizeSettings;
  signal: AbortSignal;
  onProgress(done: number, total: number, phase: string): void;
  /** Every event of the module-wise optimisation, in order. */
  onAsmoEvent?(e: AsmoEvent): void;
  /** Awaited between optimisation steps: resolves when the user resumes. */
  waitIfPaused?(): Promise<void>;
}

/** Evaluation images measured after each block for ASMO's accuracy-so-far curve (they stay in the final evaluation too). */
export const HELD_OUT_IMAGES = 64;

const sourcesOf = (images: WorkerImage[]) => images.map((im) => ({ name: im.name, label: im.label, load: async () => im.bytes }));

/** The first labelled evaluation images that decode, up to HELD_OUT_IMAGES, as one tensor with their labels. */
function decodeHeldOut(images: WorkerImage[], spec: PreprocessSpec): HeldOutImages | null {
  const tensors: Float32Array[] = [], labels: number[] = [];
  for (const im of images) {
    if (tensors.length >= HELD_OUT_IMAGES) break;
    if (im.label === null) continue;
    try {
      tensors.push(imageBytesToTensor(im.bytes, im.name, spec));
      labels.push(im.label);
    } catch {
      // Reported as skipped by the final evaluation.
    }
  }
  if (!tensors.length) return null;
  const per = tensors[0].length, pixels = new Float32Array(tensors.length * per);
  tensors.forEach((t, i) => pixels.set(t, i * per));
  return { pixels, labels: Int32Array.from(labels), count: tensors.length };
}

/**
 * FP32 (engine.predict) and then the quantized model (a QuantViTRunner on `params`, disposed here) on the
 * same images: the second half of a quantize run, and all of an imported export's evaluation.
 */
export async function evaluateFp32AndQuantized(engine: Engine, params: ViTQuantParams,
                                               o: { sources: ImageSource[]; spec: PreprocessSpec; batchSize: number; signal: AbortSignal;
                                                    onProgress(done: number, total: number, phase: 'fp32' | 'quantized'): void }): Promise<{ fp: EvalResult; q: EvalResult }> {
  const evalWith = (predict: Parameters<typeof evaluate>[0]['predict'], phase: 'fp32' | 'quantized') => evaluate({
    sources: o.sources, predict, spec: o.spec, numClasses: engine.model.config.numClasses, batchSize: o.batchSize, signal: o.signal,
    onProgress: (done, total) => o.onProgress(done, total, phase),
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
  const started = performance.now(), { images, spec, signal } = job, n = job.calibSize;
  if (!images.length) throw new UsageError('There are no images to calibrate and evaluate on; add some first.');
  if (!(Number.isInteger(n) && n >= 1 && n < images.length)) {
    throw new UsageError(`The calibration size must be a whole number from 1 to ${images.length - 1} (the rest of the ${images.length} images are evaluated), not ${n}.`);
  }
  const model = engine.model, c = model.config;
  const split = splitImages(images, n);

  const per = (spec.channels ?? 3) * spec.imageSize * spec.imageSize, skipped: SkippedImage[] = [], tensors: Float32Array[] = [];
  const calibNames: string[] = [];
  job.onProgress(0, split.calib.length, 'decoding');
  for (const im of split.calib) {
    try {
      tensors.push(imageBytesToTensor(im.bytes, im.name, spec));
      calibNames.push(im.name);
    } catch (e) {
      skipped.push({ name: im.name, reason: e instanceof AdfqError ? e.message : `could not be read (${String(e)})` });
    }
  }
  if (!tensors.length) throw new UsageError(`None of the ${split.calib.length} calibration images could be decoded.`);
  const pixels = new Float32Array(tensors.length * per);
  tensors.forEach((t, i) => pixels.set(t, i * per));
  await checkCancelled(signal);

  const cal = await calibrate(engine.gpu, model, pixels, tensors.length, job.settings, {
    // The engine's steps ('weights', 'block 3: fc1-in', …) as 'calibrating: <step>'.
    signal, onProgress: (done, total, step) => job.onProgress(done, total, step === 'done' ? 'calibrating' : `calibrating: ${step}`),
  });
  await checkCancelled(signal);

  let params = cal.params, asmo: AsmoSummary | undefined, optimisationSeconds = 0;
  if (job.settings.asmo) {
    const t0 = performance.now();
    job.onProgress(0, 1, 'optimising');
    const r = await runAsmo(engine.gpu, model, {
      pixels, n: tensors.length, params: cal.params, settings: job.settings.asmo, heldOut: decodeHeldOut(split.evaluate, spec),
    }, {
      signal, waitIfPaused: job.waitIfPaused,
      onEvent: (e) => {
        if (e.type === 'module-start') job.onProgress(e.index, e.total, 'optimising');
        job.onAsmoEvent?.(e);
      },
    });
    params = r.params;
    asmo = r.summary;
    optimisationSeconds = (performance.now() - t0) / 1000;
    await checkCancelled(signal);
  }

  const sources = sourcesOf(split.evaluate);
  const { fp, q } = await evaluateFp32AndQuantized(engine, params, { sources, spec, batchSize: job.batchSize, signal, onProgress: job.onProgress });
  return {
    settings: cal.settings, params, sites: cal.sites, calibImages: cal.calibImages, evalImages: sources.length,
    fp32: accuracyOf(fp), quantized: accuracyOf(q), skipped: [...skipped, ...fp.skipped], backend: cal.backend,
    ...(asmo ? { asmo } : {}),
    timings: { calibrationSeconds: cal.seconds, optimisationSeconds, fp32EvalSeconds: fp.seconds, quantizedEvalSeconds: q.seconds,
      totalSeconds: (performance.now() - started) / 1000 },
    calibNames, predictions: pairPredictions(fp, q),
  };
}

/** Both evaluations' top-1 per image; they read the same images, so the same ones decode in the same order. */
export function pairPredictions(fp: EvalResult, q: EvalResult): RunPrediction[] {
  return fp.predictions.map((p, i) => {
    const other = q.predictions[i];
    if (other?.name !== p.name) throw new AdfqError('internal', `The FP32 and quantized evaluations read different images (${p.name} vs ${other?.name}).`);
    return { name: p.name, label: p.label, fp32: p.top5[0], quantized: other.top5[0] };
  });
}
