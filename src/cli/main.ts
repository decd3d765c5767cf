/**
 * `npx adfq <command>`. Each command prints human-readable output, or with --json one JSON object as
 * the last line of stdout. Errors: the typed error's sentence on stderr, exit 1 (2 for usage errors);
 * the stack trace only with --debug.
 */
import { AdfqError, UsageError } from '../engine/errors.ts';
import { guardTerminal } from './terminal-text.ts';
import { parseArgs, type ParsedArgs } from './args.ts';
import { evalCommand } from './commands/eval.ts';
import { inspectCommand } from './commands/inspect.ts';
import { quantizeCommand } from './commands/quantize.ts';
import { KNOWN } from './known-flags.ts';
import { runCommand } from './commands/run.ts';

const HELP = `adfq: ViT inference and quantization on WebGPU (headless, same engine as the studio)

Commands
  inspect [model.onnx]                       architecture summary
  eval [model.onnx] --images <dir>           top-1/top-5 on labelled images (no model: the embedded demo)
  run <model.onnx> --input <f32 file> --shape b,c,h,w --out <f32 logits file>
                                             raw NCHW float32 in, raw float32 logits out
  quantize [model.onnx] --calib <dir> --eval <dir> --bits w4a4 --method adfq|minmax|percentile [--iters N]
                                             calibrate quantizers on the quantized model's activations,
                                             optionally optimise module by module (ASMO), then top-1/top-5
                                             of FP32 and each quantized model on the GPU
                                             (no model: the embedded demo, calibrating on its first
                                             --calib-size images, evaluating the rest; the same folder
                                             for --calib and --eval is split the same way)

Options
  --images <dir|file>    images (JPEG/PNG); labels from wnid folders, class-name or index folders, or
                         wnid file-name prefixes (n01440764_x.JPEG)
  --labels <file>        class list, index<TAB>wnid<TAB>name (default: ImageNet-1k for 1000 classes)
  --preset imagenet|half normalisation preset (half = mean/std 0.5, Google AugReg ViTs)
  --mean a,b,c --std a,b,c  explicit normalisation (overrides model metadata)
  --resize N             shorter side before the centre crop (default: metadata, else size/0.875)
  --batch N              images per GPU batch (default 8)
  --limit N              evaluate only the first N images
  --bits wXaY[,wXaY]     quantize: weight/activation bits, 2..8 each (default w4a4); a list runs each
  --method M[,M]         quantize: adfq (default), minmax (per-tensor MinMax), percentile (per-tensor
                         percentile-MSE); a list runs each method at each bit width, FP32 evaluated once
  --seed N               quantize: shuffle the images before the calibration split (default 0: file order)
  --no-ppoq --no-slq --no-log  quantize --method adfq: replace that quantizer by per-tensor percentile-MSE
  --calib-size N         quantize: calibration images (default 32); with --iters also ASMO's
                         reconstruction set (the paper uses 1024; the first 256 initialise the quantizers)
  --iters N              quantize --method adfq: module-wise optimisation (ASMO, ADFQ.md §5) with N steps
                         per module after calibration (the paper: 3000); loss curves go into the report
  --asmo-batch N         ASMO mini-batch (default 32)
  --asmo-modules L       ASMO modules to optimise: patch,attention,mlp,head (default all)
  --gradients G          ASMO gradient paths: default (the released code) or ste-lsq
  --kl-axis A            ASMO attention term: heads (default, the released code) or keys
  --track-accuracy N     ASMO: top-1 on the first N evaluation images after each block (default 0: off)
  --checkpoint <f.json>  ASMO: save the run's state after every module (written whole, so a crash or a
                         lost device loses at most the running module; Ctrl-C stops with the last one kept)
  --resume <f.json>      ASMO: continue from a --checkpoint file, skipping its finished modules; the result
                         equals an uninterrupted run's (the same command line, else refused)
  --report <file.json>   quantize: settings, every quantizer parameter, accuracies, timings
  --out <model.q.onnx>   quantize: export each run as ONNX (several runs: <name>.<method>-<bits>.onnx)
  --format F             quantize --out: qdq (integer weights + DequantizeLinear, default) or
                         fake-quant-weights (FP32 weights holding the quantized values)
  --opset N              quantize --out: 13 (default), 17 or 21;  --int4: int4 weight codes (qdq, opset 21)
  --from-report <f.json> quantize: re-run what a --report file describes (model, images, seed, every
                         method and bit width, ASMO settings) and say whether every parameter came out the same
  --json                 one JSON object as the last line of stdout
  --no-progress          no progress bar on stderr
  --debug                stack traces on errors
`;



const COMMANDS: Record<string, (args: ParsedArgs) => Promise<unknown>> = {
  inspect: inspectCommand, eval: evalCommand, run: runCommand, quantize: quantizeCommand,
};

async function main(argv: string[]): Promise<number> {
  guardTerminal(process.stdout);
  guardTerminal(process.stderr);
  let debug = argv.includes('--debug');
  try {
    const args = parseArgs(argv, KNOWN);
    debug = args.flags.has('debug');
    if (args.flags.has('help') || args.command === null || args.command === 'help') {
      process.stdout.write(HELP);
      return args.command === null && !args.flags.has('help') ? 2 : 0;
    }
    const command = COMMANDS[args.command];
    if (!command) throw new UsageError(`Unknown command '${args.command}'. Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    const result = await command(args);
    if (args.flags.has('json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (e) {
    const typed = e instanceof AdfqError;
    process.stderr.write(`adfq: ${typed ? e.message : `internal error: ${(e as Error)?.message ?? String(e)}`}\n`);
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

// dawn.node keeps Node alive after its last device is destroyed; exit explicitly.
main(process.argv.slice(2)).then((code) => process.exit(code));
