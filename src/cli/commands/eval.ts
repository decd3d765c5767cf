/**
 * `adfq eval [model] --images <dir>`: top-1/top-5 through our WebGPU engine. An adfq-studio export is
 * evaluated quantized: its weights and every activation quantizer from the file (QuantViTRunner).
 */
import { Engine } from '../../engine/engine.ts';
import { UnsupportedModelError } from '../../engine/errors.ts';
import { evaluate } from '../../engine/eval/evaluate.ts';
import { QuantViTRunner } from '../../engine/model/quant-runner.ts';
import { quantizationLabel, quantizationSummary } from '../../engine/onnx/import-export.ts';
import { intFlag, type ParsedArgs } from '../args.ts';
import { imagesFromArgs, preprocessingFromArgs, readModelArg } from '../model-input.ts';
import { progressBar } from '../progress.ts';

export async function evalCommand(args: ParsedArgs) {
  const json = args.flags.has('json');
  const file = await readModelArg(args, true);
  const batchSize = intFlag(args, 'batch', 1, 1024) ?? 8;
  const engine = await Engine.create();
  let quantRunner: QuantViTRunner | null = null;
  try {
    const summary = engine.loadModel(file.bytes, (m) => process.stderr.write(`warning: ${m}\n`));
    const config = engine.model.config, quant = engine.quantization;
    if (quant) {
      process.stderr.write(`adfq export: ${quantizationLabel(quant)}, quantizers from the file (${quant.format}, opset ${quant.opset}); evaluating the quantized model\n`);
      quantRunner = new QuantViTRunner(engine.gpu, engine.model, quant.params);
    }
    const predict = quantRunner ? (px: Float32Array, b: number) => quantRunner!.forward(px, b) : engine.predict;
    if (config.inChannels !== 1 && config.inChannels !== 3) {
      throw new UnsupportedModelError(`The model takes ${config.inChannels}-channel input; images give 1 or 3. Use 'adfq run' with raw tensors.`);
    }
    const pre = preprocessingFromArgs(args, config);
    if (pre.warning) process.stderr.write(`warning: ${pre.warning}\n`);
    const images = await imagesFromArgs(args, config, file.isDemo);
    for (const w of images.labels.warnings) process.stderr.write(`warning: ${w}\n`);
    if (images.labels.labelled === 0) process.stderr.write(`warning: ${images.labels.labelSource}; accuracy cannot be measured.\n`);
    const bar = progressBar('eval', !args.flags.has('no-progress'));
    const result = await evaluate({
      sources: images.sources, predict, spec: pre.spec, numClasses: config.numClasses,
      batchSize, onProgress: (d, t) => bar.update(d, t), onNotice: (m) => process.stderr.write(`\nnote: ${m}\n`),
    });
    bar.finish();
    const out = {
      model: file.path, demo: file.isDemo, adapter: engine.adapterInfo,
      top1: result.top1, top5: result.top5, count: result.count, correct1: result.correct1, correct5: result.correct5,
      images: images.sources.length, skipped: result.skipped, labelSource: images.labels.labelSource,
      unknownLabels: images.labels.unknown, preprocessing: { ...pre.spec, source: pre.source },
      batchSize, seconds: result.seconds, imagesPerSecond: result.predictions.length / result.seconds,
      parameters: summary.parameters,
      quantization: quant ? quantizationSummary(quant) : null,
    };
    if (!json) {
      const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
      process.stdout.write([
        `model      ${file.path}${file.isDemo ? ' (embedded demo)' : ''}${quant ? ` (adfq export, ${quantizationLabel(quant)}, evaluated quantized)` : ''}`,
        `adapter    ${engine.adapterInfo}`,
        `labels     ${images.labels.labelSource}`,
        `images     ${images.sources.length} (${result.count} labelled, ${result.skipped.length} skipped)`,
        `top-1      ${pct(result.top1)} (${result.correct1}/${result.count})`,
        `top-5      ${pct(result.top5)} (${result.correct5}/${result.count})`,
        `time       ${result.seconds.toFixed(1)} s (${out.imagesPerSecond.toFixed(2)} images/s)`,
        ...result.skipped.map((s) => `skipped    ${s.name}: ${s.reason}`),
      ].join('\n') + '\n');
    }
    return out;
  } finally {
    quantRunner?.dispose();
    engine.dispose();
  }
}
