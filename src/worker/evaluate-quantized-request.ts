/**
 * The worker's `evaluate-quantized` request: the loaded model run with given quantizers, without calibrating,
 * for an imported adfq-studio export (its params come from the file). Every image is evaluated twice on the
 * same tensors: FP32 activations on the loaded weights (for an export, its already fake-quantized weights),
 * then quantized by QuantViTRunner, disposed here.
 */
import type { Engine } from '../engine/engine.ts';
import { UsageError } from '../engine/errors.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import type { QuantEvalResult, WorkerImage } from './protocol.ts';
import { accuracyOf, evaluateFp32AndQuantized, pairPredictions, sourcesOf } from './quantize-request.ts';

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
  const sources = sourcesOf(job.images);
  const { fp, q } = await evaluateFp32AndQuantized(engine, job.params, { ...job, sources });
  return {
    evalImages: fp.predictions.length, fp32: accuracyOf(fp), quantized: accuracyOf(q), skipped: fp.skipped,
    predictions: pairPredictions(fp, q), fp32Seconds: fp.seconds, quantizedSeconds: q.seconds,
  };
}
