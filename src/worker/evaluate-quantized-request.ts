/**
 * The worker's `evaluate-quantized` request: the loaded model run with given quantizers, without calibrating,
 * for an imported adfq-studio export (its params come from the file). Every image is evaluated twice on the
 * same tensors: FP32 activations on the loaded weights (for an export, its already fake-quantized weights),
 * then quantized by QuantViTRunner, disposed here.
 */
import type { Engine } from '../engine/engine.ts';
import { UsageError } from '../engine/errors.ts';
import { evaluate, type EvalResult } from '../engine/eval/evaluate.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import { QuantViTRunner } from '../engine/model/quant-runner.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import type { QuantEvalResult, WorkerImage } from './protocol.ts';
import { accuracyOf, pairPredictions } from './quantize-request.ts';

export interface QuantEvalJob {
  images: WorkerImage[];
  spec: PreprocessSpec;
  batchSize: number;
  params: ViTQuantParams;
  signal: AbortSignal;
  onProgress(done: number, total: number, phase: 'fp32' | 'quantized'): void;
}

export async function runEvaluateQuantized(engine: Engine, job: QuantEvalJob): Promise<QuantEvalResult> {
  const model = engine.model, c = model.config;
  if (!job.images.length) throw new UsageError('There are no images to evaluate on; add some first.');
  if (job.params.blocks.length !== c.depth) {
    throw new UsageError(`These quantizers are for a ${job.params.blocks.length}-block model, but the loaded model has ${c.depth} blocks.`);
  }
  const sources = job.images.map((im) => ({ name: im.name, label: im.label, load: async () => im.bytes }));
  const evalWith = (predict: Parameters<typeof evaluate>[0]['predict'], phase: 'fp32' | 'quantized') => evaluate({
    sources, predict, spec: job.spec, numClasses: c.numClasses, batchSize: job.batchSize, signal: job.signal,
    onProgress: (done, total) => job.onProgress(done, total, phase),
  });
  const fp = await evalWith(engine.predict, 'fp32');
  const runner = new QuantViTRunner(engine.gpu, model, job.params);
  let q: EvalResult;
  try {
    q = await evalWith((px, b) => runner.forward(px, b), 'quantized');
  } finally {
    runner.dispose();
  }
  return {
    evalImages: fp.predictions.length, fp32: accuracyOf(fp), quantized: accuracyOf(q), skipped: fp.skipped,
    predictions: pairPredictions(fp, q), fp32Seconds: fp.seconds, quantizedSeconds: q.seconds,
  };
}
