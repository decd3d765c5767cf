/**
 * `adfq quantize [model] --calib <dir> --bits wXaY --method adfq|minmax|percentile --eval <dir>`:
 * calibrates quantizer parameters on the CPU (FP32 twin's activations), then evaluates FP32 and the
 * fake-quantized model (QuantViTRunner on the GPU) on the same images. Without a model: the embedded demo,
 * calibrating on the first N demo images taken round-robin over the class folders (so every class is in
 * the calibration set) and evaluating on the remaining ones.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { buildRunReport } from '../../engine/report/run-report.ts';
import { runReportHtml } from '../../engine/report/report-html.ts';
import { Engine } from '../../engine/engine.ts';
import { UnsupportedModelError, UsageError } from '../../engine/errors.ts';
import { evaluate, type ImageSource } from '../../engine/eval/evaluate.ts';
import { decodeAll } from '../../engine/eval/image-batches.ts';
import { listImageFiles } from '../../engine/data/node-files.ts';
import { roundRobin, seededShuffle } from '../../engine/data/split.ts';
import { QuantViTRunner } from '../../engine/model/quant-runner.ts';
import type { Ablation } from '../../engine/quant/params.ts';
import { CALIB_INIT_IMAGES, calibrationMemoryPlan } from '../../engine/quant/calibrate-gpu.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS, METHODS, type CalibrationResult, type Method } from '../../engine/quant/quantize.ts';
import { intFlag, parseArgs, stringFlag, type ParsedArgs } from '../args.ts';
import { KNOWN } from '../known-flags.ts';
import { DEMO_IMAGES_PATH } from '../demo.ts';
import { imagesFromArgs, preprocessingFromArgs, readModelArg } from '../model-input.ts';
import { progressBar, type ProgressBar } from '../progress.ts';
import { buildQuantizedOnnx, type ExportFormat, type ExportSummary } from '../../engine/export/export-onnx.ts';
import { writeFileAtomic } from '../write-atomic.ts';
import { checkpointFromArgs, withCheckpoints } from '../asmo-checkpoint.ts';
import { runAsmo, type HeldOutImages } from '../../engine/asmo/optimize.ts';
import { asmoMemoryPlan } from '../../engine/asmo/memory-plan.ts';
import { decodeHeldOut } from '../../engine/asmo/held-out.ts';
import { DEFAULT_ASMO_CALIB_IMAGES, DEFAULT_ASMO_SETTINGS, type AsmoEvent, type AsmoModuleKind, type AsmoSettings, type AsmoSummary } from '../../engine/asmo/settings.ts';
import type { PreprocessSpec } from '../../engine/image/index.ts';


/** `w4a4` → {bitsW: 4, bitsA: 4}; 2 ≤ X, Y ≤ 8. */
export function parseBits(v: string | undefined): { bitsW: number; bitsA: number } {
  const m = /^w(\d+)a(\d+)$/i.exec(v ?? '');
  const bitsW = m ? Number(m[1]) : NaN, bitsA = m ? Number(m[2]) : NaN;
  if (!(bitsW >= 2 && bitsW <= 8 && bitsA >= 2 && bitsA <= 8)) {
    throw new UsageError(`--bits must be wXaY with weight and activation bits from 2 to 8 (e.g. w4a4, w6a6), got '${v}'.`);
  }
  return { bitsW, bitsA };
}

function parseMethod(v: string | undefined): Method {
  const m = (v ?? 'adfq') as Method;
  if (!METHODS.includes(m)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}, got '${v}'.`);
  return m;
}

type Accuracy = { top1: number; top5: number; count: number; correct1: number; correct5: number };
interface QuantRun {
  method: Method | 'adfq+asmo'; bits: string; bitsW: number; bitsA: number; ablation: Ablation | null; settings: CalibrationResult['settings'];
  quantized: Accuracy; calibrationSeconds: number; quantizedEvalSeconds: number; searches: CalibrationResult['backend'];
  sites: CalibrationResult['sites']; quantParams: CalibrationResult['params'];
  /** ASMO's run (adfq with --iters): settings, per-module loss curves and rounding shares, accuracy so far. */
  asmo: AsmoSummary | null; optimisationSeconds: number;
  /** --out: the exported file and its sizes. */
  exported: (ExportSummary & { path: string }) | null;
}

const ASMO_MODULES: readonly AsmoModuleKind[] = ['patch', 'attention', 'mlp', 'head'];

/** ASMO's settings from --iters and its options; null without --iters. */
function asmoFromArgs(args: ParsedArgs, seed: number): AsmoSettings | null {
  const iters = intFlag(args, 'iters', 1, 1_000_000);
  const given = ['asmo-batch', 'asmo-modules', 'gradients', 'kl-axis', 'track-accuracy', 'checkpoint', 'resume'].filter((f) => args.flags.has(f));
  if (iters === undefined) {
    if (given.length) throw new UsageError(`--${given[0]} applies to module-wise optimisation: give --iters N too.`);
    return null;
  }
  const listed = stringFlag(args, 'asmo-modules')?.split(',').map((m) => m.trim()) ?? [...ASMO_MODULES];
  for (const m of listed) if (!ASMO_MODULES.includes(m as AsmoModuleKind)) throw new UsageError(`--asmo-modules takes ${ASMO_MODULES.join(', ')}, not '${m}'.`);
  const gradients = stringFlag(args, 'gradients') ?? 'default', klAxis = stringFlag(args, 'kl-axis') ?? 'heads';
  if (gradients !== 'default' && gradients !== 'ste-lsq') throw new UsageError(`--gradients must be default or ste-lsq, not '${gradients}'.`);
  if (klAxis !== 'heads' && klAxis !== 'keys') throw new UsageError(`--kl-axis must be heads or keys, not '${klAxis}'.`);
  return {
    ...DEFAULT_ASMO_SETTINGS, iters, seed, gradients, klAxis,
    batch: intFlag(args, 'asmo-batch', 1, 4096) ?? DEFAULT_ASMO_SETTINGS.batch,
    modules: Object.fromEntries(ASMO_MODULES.map((m) => [m, listed.includes(m)])) as AsmoSettings['modules'],
  };
}

/** Progress of an ASMO run on stderr: a bar per module, a line per finished module and accuracy point. */
function asmoProgress(label: string, iters: number, enabled: boolean, log: (m: string) => void): (e: AsmoEvent) => void {
  let bar: ProgressBar | null = null;
  return (e) => {
    if (e.type === 'phase') log(`${label}: ${e.text}`);
    else if (e.type === 'module-start') bar = progressBar(`ASMO ${e.name} (${e.index + 1}/${e.total})`, enabled);
    else if (e.type === 'losses') {
      const p = e.points.at(-1);
      if (p) bar?.update(p.step, iters, `loss ${p.total.toExponential(2)}`);
    } else if (e.type === 'module-done') {
      bar?.finish();
      const r = e.report;
      log(`  ${r.name}: L_rec ${r.recBefore.toExponential(3)} -> ${r.recAfter.toExponential(3)}, ${(100 * r.rounding.changed).toFixed(1)}% of weights rounded differently from nearest, ${r.seconds.toFixed(1)} s`);
    } else log(`  top-1 after ${e.point.label}: ${(100 * e.point.top1).toFixed(2)}% on ${e.point.images} held-out images`);
  };
}

/**
 * Options that say where output goes (or, --resume, where the work starts again: the result is the same),
 * not what is computed: not recorded for --from-report.
 */
const OUTPUT_FLAGS = new Set(['report', 'json', 'no-progress', 'from-report', 'out', 'format', 'opset', 'int4', 'debug', 'checkpoint', 'resume']);

interface ExportTarget { path: string; format: ExportFormat; opset: 13 | 17 | 21; int4: boolean }

/** --out model.q.onnx [--format qdq|fake-quant-weights] [--opset 13|17|21] [--int4]; null without --out. */
function exportFromArgs(args: ParsedArgs): ExportTarget | null {
  const path = stringFlag(args, 'out'), given = ['format', 'opset', 'int4'].filter((f) => args.flags.has(f));
  if (!path) {
    if (given.length) throw new UsageError(`--${given[0]} applies to the exported model: give --out model.q.onnx too.`);
    return null;
  }
  const format = (stringFlag(args, 'format') ?? 'qdq') as ExportFormat, opset = Number(stringFlag(args, 'opset') ?? 13);
  if (format !== 'qdq' && format !== 'fake-quant-weights') throw new UsageError(`--format must be qdq or fake-quant-weights, not '${format}'.`);
  if (opset !== 13 && opset !== 17 && opset !== 21) throw new UsageError(`--opset must be 13, 17 or 21, not '${stringFlag(args, 'opset')}'.`);
  if (args.flags.has('int4') && (format !== 'qdq' || opset !== 21)) throw new UsageError('--int4 stores int4 weight codes: it needs --format qdq --opset 21.');
  return { path, format, opset, int4: args.flags.has('int4') };
}

/** The HTML summary of run `r` beside the report: 'run.html', or 'run.<method>-<bits>.html' for several runs. */
const summaryPath = (report: string, count: number, method: string, bits: string) =>
  report.replace(/(\.json)?$/i, count === 1 ? '.html' : `.${method}-${bits}.html`);

/** Where run `r` of `count` goes: the --out path itself for one run, else '<name>.<method>-<bits>.onnx'. */
const exportPath = (out: string, count: number, method: string, bits: string) =>
  count === 1 ? out : out.replace(/(\.onnx)?$/i, `.${method}-${bits}.onnx`);
const PATH_FLAGS = new Set(['calib', 'eval', 'labels']);

/** The command line that reproduces this run from any working directory (paths made absolute). */
function reproducibleArgv(args: ParsedArgs, modelPath: string | null): string[] {
  const argv = modelPath ? [resolve(modelPath)] : [];
  for (const [name, value] of args.flags) {
    if (OUTPUT_FLAGS.has(name)) continue;
    argv.push(`--${name}`);
    if (value !== true) argv.push(PATH_FLAGS.has(name) ? resolve(value) : value);
  }
  return argv;
}

export async function quantizeCommand(args: ParsedArgs) {
  if (args.flags.has('from-report')) return fromReport(args);
  return (await runQuantizeCommand(args)).out;
}

/**
 * `--from-report f.json`: the report's command line again (output options from this one), then every
 * run's parameters compared with the report's: `reproduced` says whether all came out identical.
 */
async function fromReport(args: ParsedArgs) {
  const path = stringFlag(args, 'from-report')!;
  let report: { argv?: unknown; calibFiles?: string[]; runs?: { method: string; bits: string; quantParams: unknown }[] };
  try {
    report = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`Cannot read the report ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(report.argv) || !report.argv.every((a) => typeof a === 'string') || !Array.isArray(report.runs)) {
    throw new UsageError(`${path} is not a report written by 'adfq quantize --report' (it has no command line to re-run).`);
  }
  if (args.positional.length || [...args.flags.keys()].some((f) => !OUTPUT_FLAGS.has(f))) {
    throw new UsageError('--from-report takes everything from the report; only --report, --json, --no-progress and --out may be added.');
  }
  const output = [...args.flags].filter(([f]) => f !== 'from-report').flatMap(([f, v]) => (v === true ? [`--${f}`] : [`--${f}`, v]));
  const { out, runs, calibFiles } = await runQuantizeCommand(parseArgs(['quantize', ...(report.argv as string[]), ...output], KNOWN));
  const sameImages = JSON.stringify(calibFiles) === JSON.stringify(report.calibFiles);
  const differing = runs.filter((r, i) => JSON.stringify(r.quantParams) !== JSON.stringify(report.runs![i]?.quantParams))
    .map((r) => `${r.method} ${r.bits}`);
  const reproduced = sameImages && differing.length === 0 && runs.length === report.runs.length;
  process.stderr.write(reproduced
    ? `reproduced ${path}: every parameter of ${runs.length} run(s) is identical\n`
    : `NOT reproduced: ${!sameImages ? 'the calibration images differ from the report\'s; ' : ''}${differing.length ? `parameters differ in ${differing.join(', ')}` : ''}\n`);
  return { ...out, reproducedFrom: path, reproduced, differing };
}

async function runQuantizeCommand(args: ParsedArgs) {
  const json = args.flags.has('json'), showProgress = !args.flags.has('no-progress');
  const log = (m: string) => { if (showProgress) process.stderr.write(`${m}\n`); };
  const bitsList = (stringFlag(args, 'bits') ?? 'w4a4').split(',').map(parseBits);
  const methods = (stringFlag(args, 'method') ?? 'adfq').split(',').map(parseMethod);
  const ablation: Ablation = {
    ppoqQkv: args.flags.has('no-ppoq'), ppoqFc1: args.flags.has('no-ppoq'),
    slq: args.flags.has('no-slq'), logProbs: args.flags.has('no-log'),
  };
  if (!methods.includes('adfq') && (ablation.ppoqQkv || ablation.slq || ablation.logProbs)) {
    throw new UsageError('--no-ppoq, --no-slq and --no-log apply to --method adfq only.');
  }
  const calibSizeFlag = intFlag(args, 'calib-size', 1, 100_000);
  const batchSize = intFlag(args, 'batch', 1, 1024) ?? 8;
  const reportPath = stringFlag(args, 'report') ?? null;
  const seed = intFlag(args, 'seed', 0, 2 ** 31 - 1) ?? 0;
  const asmo = asmoFromArgs(args, seed);
  if (asmo && !methods.includes('adfq')) throw new UsageError('--iters runs module-wise optimisation, which applies to --method adfq.');
  const checkpoints = await checkpointFromArgs(args, asmo, bitsList.length);
  const trackAccuracy = intFlag(args, 'track-accuracy', 0, 100_000) ?? 0;
  const exportTo = exportFromArgs(args);
  /**
   * Without --calib-size: 32 images, or ASMO's 1024 (§5.2) capped by what there is (half of a folder that is
   * also evaluated), said on stderr.
   */
  const calibSizeFor = (available: number, split: boolean): number => {
    if (calibSizeFlag !== undefined) return calibSizeFlag;
    const want = asmo ? DEFAULT_ASMO_CALIB_IMAGES : 32, cap = split ? Math.floor(available / 2) : available;
    if (want <= cap) return want;
    process.stderr.write(`note: calibrating on ${cap} images (${available} available; ASMO's default is ${want}).\n`);
    return Math.max(1, cap);
  };
  const file = await readModelArg(args, true);
  const calibDir = stringFlag(args, 'calib'), evalDir = stringFlag(args, 'eval');
  if (!file.isDemo && (!calibDir || !evalDir)) throw new UsageError('Give the calibration and evaluation images: --calib <dir> --eval <dir>.');
  if (args.flags.has('images')) throw new UsageError("quantize takes --calib and --eval, not --images.");

  const started = performance.now();
  const engine = await Engine.create();
  try {
    const summary = engine.loadModel(file.bytes, (m) => process.stderr.write(`warning: ${m}\n`));
    const model = engine.model, config = model.config;
    if (config.inChannels !== 1 && config.inChannels !== 3) {
      throw new UnsupportedModelError(`The model takes ${config.inChannels}-channel input; images give 1 or 3.`);
    }
    const pre = preprocessingFromArgs(args, config);
    if (pre.warning) process.stderr.write(`warning: ${pre.warning}\n`);

    // Calibration images (labels not needed) and evaluation images (labelled).
    let calibFiles: { path: string; absolutePath: string }[];
    let evalSources: ImageSource[];
    let splitNote: string | null = null;
    if (file.isDemo && !calibDir && !evalDir) {
      const all = roundRobin(seededShuffle(await listImageFiles(DEMO_IMAGES_PATH), seed), (f) => f.path);
      const calibSize = calibSizeFor(all.length, true);
      if (calibSize >= all.length) throw new UsageError(`--calib-size must leave demo images to evaluate (the demo has ${all.length}).`);
      calibFiles = all.slice(0, calibSize);
      const calibSet = new Set(calibFiles.map((f) => f.path));
      const images = await imagesFromArgs({ ...args, flags: new Map(args.flags).set('images', DEMO_IMAGES_PATH) }, config, true);
      evalSources = images.sources.filter((s) => !calibSet.has(s.name));
      splitNote = `embedded demo: calibrating on the first ${calibFiles.length} demo images (round-robin over the classes${seed ? `, shuffled with seed ${seed}` : ''}), evaluating on the other ${evalSources.length}`;
      process.stderr.write(`${splitNote}\n`);  // always: the accuracies mean nothing without it
    } else {
      if (!calibDir || !evalDir) throw new UsageError('Give both --calib <dir> and --eval <dir> (or neither, for the embedded demo).');
      const all = roundRobin(seededShuffle(await listImageFiles(calibDir), seed), (f) => f.path);
      if (all.length === 0) throw new UsageError(`No JPEG or PNG files under ${calibDir}.`);
      const sameDir = resolve(calibDir) === resolve(evalDir);
      const calibSize = calibSizeFor(all.length, sameDir);
      if (sameDir && calibSize >= all.length) throw new UsageError(`--calib and --eval are the same folder: --calib-size must leave images to evaluate (it has ${all.length}).`);
      calibFiles = all.slice(0, calibSize);
      const images = await imagesFromArgs({ ...args, flags: new Map(args.flags).set('images', evalDir) }, config, false);
      for (const w of images.labels.warnings) process.stderr.write(`warning: ${w}\n`);
      if (images.labels.labelled === 0) process.stderr.write(`warning: ${images.labels.labelSource}; accuracy cannot be measured.\n`);
      const calibSet = new Set(calibFiles.map((f) => f.path));
      evalSources = sameDir ? images.sources.filter((s) => !calibSet.has(s.name)) : images.sources;
      if (sameDir) {
        splitNote = `calibrating on ${calibFiles.length} images of ${calibDir} (round-robin over its folders${seed ? `, shuffled with seed ${seed}` : ''}), evaluating on the other ${evalSources.length}`;
        process.stderr.write(`${splitNote}\n`);
      }
    }

    const calib = await decodeAll(calibFiles.map((f) => ({ name: f.path, label: null, load: async () => new Uint8Array(await readFile(f.absolutePath)) })), pre.spec);
    const { pixels: calibPixels, n, names: calibNames, skipped: calibSkipped } = calib;
    for (const s of calibSkipped) process.stderr.write(`warning: calibration image skipped: ${s.reason}\n`);
    if (!n) throw new UsageError(`None of the ${calibFiles.length} calibration images could be decoded.`);

    const plan = calibrationMemoryPlan(config, Math.min(n, CALIB_INIT_IMAGES), engine.gpu.limits.maxStorageBufferBindingSize);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    log(`calibration memory: ${plan.images} images in ${plan.chunks} chunk(s) of ${plan.chunk}; block inputs ${mib(plan.blockInputBytes)}, largest site ${mib(plan.largestSiteBytes)}, peak about ${mib(plan.peakBytes)}`);
    if (n > CALIB_INIT_IMAGES) process.stderr.write(`note: quantizers are initialised from the first ${CALIB_INIT_IMAGES} calibration images (ADFQ.md §5.2).\n`);
    const asmoPlan = asmo ? asmoMemoryPlan(config, n, asmo.batch, engine.gpu.limits) : null;
    if (asmoPlan) log(asmoPlan.summary);
    const heldOut = asmo && trackAccuracy > 0 ? await decodeHeldOut(evalSources, trackAccuracy, pre.spec) : null;

    const fpBar = progressBar('eval fp32', showProgress);
    const fp = await evaluate({ sources: evalSources, predict: engine.predict, spec: pre.spec, numClasses: config.numClasses,
      batchSize, onProgress: (d, t) => fpBar.update(d, t), onNotice: (m) => process.stderr.write(`\nnote: ${m}\n`) });
    fpBar.finish();
    const acc = (r: typeof fp) => ({ top1: r.top1, top5: r.top5, count: r.count, correct1: r.correct1, correct5: r.correct5 });

    const runs: QuantRun[] = [];
    for (const method of methods) {
      for (const { bitsW, bitsA } of bitsList) {
        const label = `${method} W${bitsW}A${bitsA}`;
        const calBar = progressBar(`calibrate ${label}`, showProgress);
        const cal = await calibrate(engine.gpu, model, calibPixels, n, { ...DEFAULT_QUANTIZE_SETTINGS, method, bitsW, bitsA, ablation: method === 'adfq' ? ablation : {} },
          { onProgress: (d, t) => calBar.update(d, t) });
        calBar.finish();
        log(`${label}: calibrated in ${cal.seconds.toFixed(1)} s (${cal.backend} searches)`);
        const optimised = method === 'adfq' && asmo
          ? await withCheckpoints(checkpoints, log, (hooks) => {
            const progress = asmoProgress(label, asmo.iters, showProgress, log);
            return runAsmo(engine.gpu, model, { pixels: calibPixels, n, params: cal.params, settings: asmo, heldOut, resume: checkpoints.resume },
              { onEvent: (e) => { progress(e); hooks.onEvent(e); }, signal: hooks.signal });
          })
          : null;
        if (optimised) log(`${label}: optimised module by module in ${optimised.summary.seconds.toFixed(1)} s`);
        const params = optimised?.params ?? cal.params;
        const runner = new QuantViTRunner(engine.gpu, model, params);
        let q;
        try {
          const qBar = progressBar(`eval ${label}`, showProgress);
          q = await evaluate({ sources: evalSources, predict: (px, b) => runner.forward(px, b), spec: pre.spec,
            numClasses: config.numClasses, batchSize, onProgress: (d, t) => qBar.update(d, t), onNotice: (m) => process.stderr.write(`\nnote: ${m}\n`) });
          qBar.finish();
        } finally {
          runner.dispose();
        }
        runs.push({ method: optimised ? 'adfq+asmo' : method, bits: `w${bitsW}a${bitsA}`, bitsW, bitsA, ablation: method === 'adfq' ? ablation : null,
          settings: { ...cal.settings, asmo: optimised ? asmo : null }, quantized: acc(q), calibrationSeconds: cal.seconds, quantizedEvalSeconds: q.seconds,
          searches: cal.backend, sites: cal.sites, quantParams: params, asmo: optimised?.summary ?? null,
          optimisationSeconds: optimised?.summary.seconds ?? 0, exported: null });
      }
    }
    if (exportTo) {
      for (const r of runs) {
        const path = exportPath(exportTo.path, runs.length, r.method, r.bits);
        const built = buildQuantizedOnnx(model, r.quantParams, { format: exportTo.format, opset: exportTo.opset, int4Weights: exportTo.int4, settings: r.settings });
        await writeFileAtomic(path, built.bytes);
        r.exported = { ...built.summary, path };
        log(`exported ${r.method} ${r.bits}: ${path} (${(built.summary.fileBytes / 2 ** 20).toFixed(2)} MiB; FP32 weights ${(built.summary.fp32WeightBytes / 2 ** 20).toFixed(2)} MiB, packed at ${r.bitsW} bits ${(built.summary.packedWeightBytes / 2 ** 20).toFixed(2)} MiB)`);
      }
    }
    const first = runs[0];
    const timings = { calibrationSeconds: first.calibrationSeconds, fp32EvalSeconds: fp.seconds, quantizedEvalSeconds: first.quantizedEvalSeconds,
      totalSeconds: (performance.now() - started) / 1000 };
    const summaryOf = (r: QuantRun) => ({ method: r.method, bits: r.bits, bitsW: r.bitsW, bitsA: r.bitsA, ablation: r.ablation,
      quantized: r.quantized, calibrationSeconds: r.calibrationSeconds, optimisationSeconds: r.optimisationSeconds, exported: r.exported,
      quantizedEvalSeconds: r.quantizedEvalSeconds,
      asmo: r.asmo && { iters: r.asmo.settings.iters, images: r.asmo.images, accuracy: r.asmo.accuracy,
        modules: r.asmo.modules.map((m) => ({ name: m.name, recBefore: m.recBefore, recAfter: m.recAfter, rounding: m.rounding, seconds: m.seconds })) } });
    const out = {
      model: file.path, demo: file.isDemo, adapter: engine.adapterInfo,
      method: first.method, bits: first.bits, bitsW: first.bitsW, bitsA: first.bitsA, ablation: first.ablation,
      calibImages: n, evalImages: evalSources.length, split: splitNote, seed,
      fp32: acc(fp), quantized: first.quantized, runs: runs.map(summaryOf), skipped: [...calibSkipped, ...fp.skipped], reportPath, timings,
      calibrationMemory: plan, asmoMemory: asmoPlan, preprocessing: { ...pre.spec, source: pre.source }, parameters: summary.parameters,
    };
    if (reportPath) {
      // Every run whole: settings, every quantizer parameter, per-site error and outlier fraction.
      const report = { ...out, argv: reproducibleArgv(args, file.isDemo ? null : file.path), calibFiles: calibFiles.map((f) => f.path),
        sites: first.sites, quantParams: first.quantParams, runs };
      await writeFileAtomic(reportPath, `${JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 1)}\n`);
      // The human-readable summary of each run beside it (the studio's HTML page: charts, no script).
      for (const r of runs) {
        const html = runReportHtml(buildRunReport({
          run: { label: `${r.method} W${r.bitsW}A${r.bitsA}`, settings: r.settings, params: r.quantParams, sites: r.sites, calibImages: n,
            evalImages: evalSources.length, fp32: acc(fp), quantized: r.quantized, backend: r.searches, asmo: r.asmo ?? undefined,
            timings: { calibrationSeconds: r.calibrationSeconds, optimisationSeconds: r.optimisationSeconds, fp32EvalSeconds: fp.seconds,
              quantizedEvalSeconds: r.quantizedEvalSeconds, totalSeconds: timings.totalSeconds },
            skipped: out.skipped, calibNames },
          model: { name: basename(file.path), summary, labels: config.labels }, preprocessing: pre.spec,
          split: splitNote ?? `calibrating on ${n} images of ${calibDir}, evaluating the ${evalSources.length} images of ${evalDir}`,
          adapter: engine.adapterInfo,
          exports: r.exported ? { [r.exported.format === 'qdq' ? 'qdq' : 'fakeQuant']: r.exported } : undefined,
        }));
        const htmlPath = summaryPath(reportPath, runs.length, r.method, r.bits);
        await writeFileAtomic(htmlPath, html);
        log(`summary ${r.method} ${r.bits}: ${htmlPath}`);
      }
    }
    if (!json) {
      const pct = (v: number) => `${(100 * v).toFixed(2)}%`.padStart(8);
      process.stdout.write([
        `model      ${file.path}${file.isDemo ? ' (embedded demo)' : ''}`,
        `calibrated on ${n} images, evaluated ${evalSources.length} images (${fp.count} labelled)`,
        '',
        `${'method'.padEnd(12)} ${'bits'.padEnd(6)}    top-1     top-5   calib s   optim s`,
        `${'fp32'.padEnd(12)} ${''.padEnd(6)} ${pct(fp.top1)}  ${pct(fp.top5)}`,
        ...runs.map((r) => `${r.method.padEnd(12)} ${`W${r.bitsW}A${r.bitsA}`.padEnd(6)} ${pct(r.quantized.top1)}  ${pct(r.quantized.top5)}  ${r.calibrationSeconds.toFixed(1).padStart(8)}  ${r.asmo ? r.optimisationSeconds.toFixed(1).padStart(8) : ''}`),
        ...(reportPath ? [`report     ${reportPath}`] : []),
      ].join('\n') + '\n');
    }
    return { out, runs, calibFiles: calibFiles.map((f) => f.path) };
  } finally {
    engine.dispose();
  }
}
