/** `adfq inspect [model]`: what the importer recognised. Needs no GPU. */
import { quantizationLabel, quantizationSummary } from '../../engine/onnx/import-export.ts';
import { importVitOrExport } from '../../engine/onnx/import-vit.ts';
import { summarize } from '../../engine/vit/summary.ts';
import type { ParsedArgs } from '../args.ts';
import { readModelArg } from '../model-input.ts';

const WEIGHT_SOURCE = { metadata: 'recorded in the metadata', codes: 'read from the DequantizeLinear scales and codes', values: 'inferred from the fake-quantized values' };

export async function inspectCommand(args: ParsedArgs) {
  const file = await readModelArg(args, true);
  const warnings: string[] = [];
  const { model, quant } = importVitOrExport(file.bytes, { onWarning: (m) => warnings.push(m) });
  const s = summarize(model);
  const quantization = quant ? quantizationSummary(quant) : null;
  if (!args.flags.has('json')) {
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const lines = [
      `${file.path}${file.isDemo ? ' (embedded demo)' : ''}`,
      `  family       ${s.family}`,
      `  input        ${s.inChannels}×${s.imageSize}×${s.imageSize}, patch ${s.patch}, ${s.tokens} tokens (${s.prefixTokens} prefix)`,
      `  width        ${s.dim}, depth ${s.depth}, heads ${s.heads}, MLP ${s.mlpDim}, GELU ${s.gelu}, LN eps ${s.lnEps}`,
      `  classes      ${s.numClasses}${s.hasLabels ? ' (labels in file)' : ''}`,
      `  batch        ${s.fixedBatch ?? 'dynamic'}`,
      `  parameters   ${s.parameters.toLocaleString('en-US')} (${mb(s.weightBytes)} FP32)`,
      `  GPU scratch  ${mb(s.activationBytesPerImage)} per image in flight`,
      `  preprocess   ${s.preprocessing ? `mean ${s.preprocessing.mean.join(',')} std ${s.preprocessing.std.join(',')} resize ${s.preprocessing.resize} (metadata)` : 'not in file'}`,
      ...(quant && quantization ? [
        `  quantized    ${quantizationLabel(quant)}: adfq-studio export, ${quant.format} opset ${quant.opset}, weights ${Object.entries(quantization.weightStorage).map(([k, n]) => `${n} ${k}`).join(', ')}`,
        `  quantizers   ${Object.entries(quantization.quantizers).map(([k, n]) => `${n} ${k}`).join(', ')} (activations); weight Δ/z ${WEIGHT_SOURCE[quant.weightQuantizers]}${quant.ambiguousColumns ? ` (${quant.ambiguousColumns} columns ambiguous)` : ''}`,
      ] : []),
      ...warnings.map((w) => `  warning      ${w}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return { model: file.path, ...s, quantization, warnings };
}
