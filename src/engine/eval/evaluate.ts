/**
 * Evaluation loop shared by the CLI, the studio's worker and the benchmarks: load → preprocess → batch →
 * predict → top-k. Any `predict` works (our GPU runner, the CPU twin, onnxruntime), so accuracies are
 * compared on exactly the same tensors.
 */
import { CancelledError, UsageError } from '../errors.ts';
import type { PreprocessSpec } from '../image/index.ts';
import { imageBatches, type ImageSource, type SkippedImage } from './image-batches.ts';
import { accuracy, predictionsFromLogits, type Accuracy, type Prediction } from './metrics.ts';

export type { ImageSource, SkippedImage } from './image-batches.ts';

export type PredictFn = (pixels: Float32Array, batch: number) => Promise<Float32Array>;

export interface EvaluateOptions {
  sources: ImageSource[];
  predict: PredictFn;
  spec: PreprocessSpec;
  numClasses: number;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Where an interrupted evaluation of the same sources (and batch size) got to: its batches are not run again. */
  resume?: EvalProgress;
  /** After each batch: everything so far, enough to resume from here (a device loss, a reload). */
  onCheckpoint?: (so: EvalProgress) => void;
}

/** A partial evaluation: the first `consumed` sources are done (a multiple of the batch size, or all). */
export interface EvalProgress {
  consumed: number;
  predictions: Prediction[];
  skipped: SkippedImage[];
  /** Seconds spent before the interruption, added to the result's. */
  seconds: number;
}

export interface EvalResult extends Accuracy {
  predictions: Prediction[];
  skipped: SkippedImage[];
  seconds: number;
}

export async function evaluate(o: EvaluateOptions): Promise<EvalResult> {
  const started = performance.now(), r = o.resume;
  if (r && !(r.consumed === o.sources.length || (r.consumed % o.batchSize === 0 && r.consumed <= o.sources.length))) {
    throw new UsageError(`Cannot resume this evaluation: ${r.consumed} of ${o.sources.length} images were done in batches of another size than ${o.batchSize}.`);
  }
  const predictions: Prediction[] = [...(r?.predictions ?? [])];
  const skipped: SkippedImage[] = [...(r?.skipped ?? [])];
  const before = r?.seconds ?? 0, from = r?.consumed ?? 0;
  const seconds = () => before + (performance.now() - started) / 1000;
  for await (const b of imageBatches(o.sources.slice(from), o.spec, o.batchSize, skipped, o.signal)) {
    if (b.kept.length) {
      const logits = await o.predict(b.pixels, b.kept.length);
      predictions.push(...predictionsFromLogits(logits, b.kept.map((s) => s.name), b.kept.map((s) => s.label), o.numClasses));
    }
    o.onCheckpoint?.({ consumed: from + b.consumed, predictions, skipped, seconds: seconds() });
    o.onProgress?.(from + b.consumed, o.sources.length);
  }
  if (o.signal?.aborted) throw new CancelledError('Evaluation cancelled.');
  return { ...accuracy(predictions), predictions, skipped, seconds: seconds() };
}
