/** `adfq run <model> --input x.f32 --shape b,c,h,w --out logits.f32`: raw tensors in and out, for comparing runtimes. */
import { readFile, writeFile } from 'node:fs/promises';
import { Engine } from '../../engine/engine.ts';
import { ShapeError, UsageError } from '../../engine/errors.ts';
import { topK } from '../../engine/eval/metrics.ts';
import { shapeFlag, stringFlag, type ParsedArgs } from '../args.ts';
import { readModelArg } from '../model-input.ts';

export async function runCommand(args: ParsedArgs) {
  const file = await readModelArg(args, false);
  const input = stringFlag(args, 'input'), out = stringFlag(args, 'out'), shape = shapeFlag(args, 'shape');
  if (!input || !out || !shape) throw new UsageError('run needs --input <file> --shape b,c,h,w --out <file>.');
  let raw: Buffer;
  try { raw = await readFile(input); } catch { throw new UsageError(`Input file not found: ${input}`); }
  const [b, c, h, w] = shape;
  if (raw.byteLength !== b * c * h * w * 4) {
    throw new ShapeError(`${input} has ${raw.byteLength} bytes; float32 [${shape.join(', ')}] needs ${b * c * h * w * 4}.`);
  }
  const pixels = new Float32Array(b * c * h * w);
  new Uint8Array(pixels.buffer).set(raw);
  const engine = await Engine.create();
  try {
    engine.loadModel(file.bytes, (m) => process.stderr.write(`warning: ${m}\n`));
    const cfg = engine.model.config;
    if (c !== cfg.inChannels || h !== cfg.imageSize || w !== cfg.imageSize) {
      throw new ShapeError(`--shape ${shape.join(',')} does not match the model's input [b, ${cfg.inChannels}, ${cfg.imageSize}, ${cfg.imageSize}].`);
    }
    const t0 = performance.now();
    const logits = await engine.predict(pixels, b);
    const seconds = (performance.now() - t0) / 1000;
    await writeFile(out, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
    const top1 = Array.from({ length: b }, (_, i) => topK(logits, i * cfg.numClasses, cfg.numClasses, 1)[0]);
    if (!args.flags.has('json')) process.stdout.write(`wrote ${out}: float32 [${b}, ${cfg.numClasses}] in ${seconds.toFixed(2)} s; top-1 ${top1.join(' ')}\n`);
    return { out, shape: [b, cfg.numClasses], top1, seconds, adapter: engine.adapterInfo };
  } finally {
    engine.dispose();
  }
}
