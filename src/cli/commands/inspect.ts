/** `adfq inspect [model]`: what the importer recognised. Needs no GPU. */
import { importViT } from '../../engine/onnx/import-vit.ts';
import { summarize } from '../../engine/vit/summary.ts';
import type { ParsedArgs } from '../args.ts';
import { readModelArg } from '../model-input.ts';

export async function inspectCommand(args: ParsedArgs) {
  const file = await readModelArg(args, true);
  const warnings: string[] = [];
  const model = importViT(file.bytes, { onWarning: (m) => warnings.push(m) });
  const s = summarize(model);
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
      ...warnings.map((w) => `  warning      ${w}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return { model: file.path, ...s, warnings };
}
