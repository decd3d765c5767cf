/**
 * Evaluation loop shared by the CLI, the studio's worker and the benchmarks: load → preprocess → batch →
 * predict → top-k. Any `predict` works (our GPU runner, the CPU twin, onnxruntime), so accuracies are
 * compared on exactly the same tensors.
 */
import { CancelledError, UsageError } from '../errors.ts';
import { oomDetails } from '../gpu/oom.ts';
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
  /** Something the user should know that did not stop the run (out of memory at this batch size: went on at a smaller one). */
  onNotice?: (message: string) => void;
}

/**
 * A partial evaluation: the first `consumed` sources are done. Resumed with the same batch size (as the
 * page does) the batches and so the result are those of an uninterrupted run.
 */
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
  if (r && !(Number.isInteger(r.consumed) && r.consumed >= 0 && r.consumed <= o.sources.length)) {
    throw new UsageError(`Cannot resume this evaluation: it says ${r.consumed} of ${o.sources.length} images were done.`);
  }
  const predictions: Prediction[] = [...(r?.predictions ?? [])];
  const skipped: SkippedImage[] = [...(r?.skipped ?? [])];
  const before = r?.seconds ?? 0;
  const seconds = () => before + (performance.now() - started) / 1000;
  // `done` sources are finished (predicted or skipped), and the first `skippedDone` skips are theirs.
  let done = r?.consumed ?? 0, skippedDone = skipped.length, batch = o.batchSize;
  for (;;) {
    const from = done;
    try {
      for await (const b of imageBatches(o.sources.slice(from), o.spec, batch, skipped, o.signal)) {
        if (b.kept.length) {
          const logits = await o.predict(b.pixels, b.kept.length);
          predictions.push(...predictionsFromLogits(logits, b.kept.map((s) => s.name), b.kept.map((s) => s.label), o.numClasses));
        }
        done = from + b.consumed;
        skippedDone = skipped.length;
        o.onCheckpoint?.({ consumed: done, predictions, skipped, seconds: seconds() });
        o.onProgress?.(done, o.sources.length);
      }
      break;
    } catch (e) {
      // Out of GPU memory with a batch that fits: go on at that batch from the first image not done.
      const smaller = oomDetails(e)?.suggestedBatch ?? 0;
      if (smaller < 1 || smaller >= batch) throw e;
      skipped.length = skippedDone;
      o.onNotice?.(`${(e as Error).message} Going on at batch ${smaller}.`);
      batch = smaller;
    }
  }
  if (o.signal?.aborted) throw new CancelledError('Evaluation cancelled.');
  return { ...accuracy(predictions), predictions, skipped, seconds: seconds() };
}
