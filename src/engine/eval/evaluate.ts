/**
 * Evaluation loop shared by the CLI, the studio's worker and the benchmarks: load → preprocess → batch →
 * predict → top-k. Any `predict` works (our GPU runner, the CPU twin, onnxruntime), so accuracies are
 * compared on exactly the same tensors. A bad image is skipped and listed; it never stops the run.
 */
import { AdfqError, CancelledError } from '../errors.ts';
import { imageBytesToTensor, type PreprocessSpec } from '../image/index.ts';
import { accuracy, predictionsFromLogits, type Accuracy, type Prediction } from './metrics.ts';

export interface ImageSource {
  name: string;
  label: number | null;
  load(): Promise<Uint8Array>;
}

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

export interface SkippedImage { name: string; reason: string }

export interface EvalResult extends Accuracy {
  predictions: Prediction[];
  skipped: SkippedImage[];
  seconds: number;
}

export async function evaluate(o: EvaluateOptions): Promise<EvalResult> {
  const started = performance.now();
  const channels = o.spec.channels ?? 3;
  const per = channels * o.spec.imageSize * o.spec.imageSize;
  const predictions: Prediction[] = [];
  const skipped: SkippedImage[] = [];
  for (let start = 0; start < o.sources.length; start += o.batchSize) {
    if (o.signal?.aborted) throw new CancelledError('Evaluation cancelled.');
    const group = o.sources.slice(start, start + o.batchSize);
    const tensors: Float32Array[] = [];
    const kept: ImageSource[] = [];
    for (const src of group) {
      try {
        tensors.push(imageBytesToTensor(await src.load(), src.name, o.spec));
        kept.push(src);
      } catch (e) {
        skipped.push({ name: src.name, reason: e instanceof AdfqError ? e.message : `could not be read (${String(e)})` });
      }
    }
    if (kept.length) {
      const pixels = new Float32Array(kept.length * per);
      tensors.forEach((t, i) => pixels.set(t, i * per));
      const logits = await o.predict(pixels, kept.length);
      predictions.push(...predictionsFromLogits(logits, kept.map((s) => s.name), kept.map((s) => s.label), o.numClasses));
    }
    o.onProgress?.(Math.min(start + o.batchSize, o.sources.length), o.sources.length);
  }
  return { ...accuracy(predictions), predictions, skipped, seconds: (performance.now() - started) / 1000 };
}
