/**
 * The worker's `export` request: the loaded model quantized by a finished run's parameters (the page keeps
 * them; the worker keeps the model) written as ONNX by src/engine/export, whole, in memory. The page starts
 * a download only from these finished bytes, so a file on disk is never partial.
 */
import type { Engine } from '../engine/engine.ts';
import { UsageError } from '../engine/errors.ts';
import { buildQuantizedOnnx, type ExportSummary } from '../engine/export/export-onnx.ts';
import type { ViTModel } from '../engine/vit/description.ts';
import type { ExportJob } from './protocol.ts';

export function runExport(engine: Engine, job: ExportJob): { bytes: Uint8Array; summary: ExportSummary } {
  const model = engine.model, c = model.config, p = job.params;
  if (p.blocks.length !== c.depth) {
    throw new UsageError(`These quantization parameters are for a ${p.blocks.length}-block model, but the loaded model has ${c.depth} blocks; quantize it again.`);
  }
  // The run's preprocessing, not the file's, is what its accuracies were measured with: the export says so.
  const pre = job.preprocessing;
  const withRunPreprocessing: ViTModel = { ...model, config: { ...c, preprocessing: { mean: pre.mean, std: pre.std, resize: pre.resize, source: 'user' } } };
  const out = buildQuantizedOnnx(withRunPreprocessing, p, {
    format: job.format, opset: job.opset, int4Weights: job.int4Weights, settings: job.settings, metadata: job.metadata,
  });
  return { bytes: out.bytes, summary: out.summary };
}
