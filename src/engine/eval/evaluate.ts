/**
 * Evaluation loop shared by the CLI, the studio's worker and the benchmarks: load → preprocess → batch →
 * predict → top-k. Any `predict` works (our GPU runner, the CPU twin, onnxruntime), so accuracies are
 * compared on exactly the same tensors.
 */
import { CancelledError } from '../errors.ts';
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
}

export interface EvalResult extends Accuracy {
  predictions: Prediction[];
  skipped: SkippedImage[];
  seconds: number;
}

export async function evaluate(o: EvaluateOptions): Promise<EvalResult> {
  const started = performance.now();
  const predictions: Prediction[] = [];
  const skipped: SkippedImage[] = [];
  for await (const b of imageBatches(o.sources, o.spec, o.batchSize, skipped, o.signal)) {
    if (b.kept.length) {
      const logits = await o.predict(b.pixels, b.kept.length);
      predictions.push(...predictionsFromLogits(logits, b.kept.map((s) => s.name), b.kept.map((s) => s.label), o.numClasses));
    }
    o.onProgress?.(b.consumed, o.sources.length);
  }
  if (o.signal?.aborted) throw new CancelledError('Evaluation cancelled.');
  return { ...accuracy(predictions), predictions, skipped, seconds: (performance.now() - started) / 1000 };
}
