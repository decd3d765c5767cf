/**
 * `npm run soak [-- --runs K] [--model m.onnx --images dir [--preset half]] [--limit N] [--calib N]
 *   [--batch B] [--asmo-iters I] [--kinds evaluate,stats,...] [--faults F] [--json]`
 *
 * Runs the soak cycle (tools/soak/cycle.ts) K times (default 5) on one GPU context with one loaded model
 * (default: the embedded demo and its images) and prints, per round, the runs per kind and outcome, the
 * pool's bytes and buffers in use before and after, the bytes allocated after the round, and the time.
 * `--faults F` makes each kind throw at F acquisitions spread over its complete run (default 1: the middle).
 * Exits 1 when a run leaves bytes or buffers in use, or when bytes allocated grow after the first round.
 *
 * ViT-Ti on the ImageNet fixture:
 *   npm run soak -- --model ../shared/fixtures/imagenet/vit_tiny_patch16_224.onnx \
 *     --images ../shared/fixtures/imagenet/images --preset half --limit 8 --calib 4 --runs 2
 */
import { existsSync } from 'node:fs';
import { parseArgs, intFlag, stringFlag, type ParsedArgs } from '../../src/cli/args.ts';
import { imagesFromArgs, preprocessingFromArgs, readModelArg } from '../../src/cli/model-input.ts';
import { AdfqError, UsageError } from '../../src/engine/errors.ts';
import { acquireGpu } from '../../src/engine/gpu/device.ts';
import { ViTRunner } from '../../src/engine/model/vit-runner.ts';
import { importViT } from '../../src/engine/onnx/import-vit.ts';
import { decodeAll, describeProblems, leaks, SOAK_KINDS, SoakRunner, soakRound, tinyAsmoSettings, type SoakKind, type SoakStep } from './cycle.ts';

const KNOWN = new Set(['runs', 'model', 'images', 'labels', 'preset', 'mean', 'std', 'resize', 'limit', 'calib', 'batch', 'asmo-iters', 'kinds', 'faults', 'json', 'help']);

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

async function main(argv: string[]): Promise<number> {
  // Dawn finds lavapipe through VK_ICD_FILENAMES (as tests/setup-env.ts does); an explicit setting wins.
  const lvp = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find(existsSync);
  if (!process.env.VK_ICD_FILENAMES && lvp && !process.env.ADFQ_SOAK_ANY_ADAPTER) process.env.VK_ICD_FILENAMES = lvp;

  const args = parseArgs(argv, KNOWN);
  if (args.command) args.positional.unshift(args.command);
  if (args.flags.has('help')) { console.log(headerHelp()); return 0; }
  const runs = intFlag(args, 'runs', 1, 10_000) ?? 5;
  const batchSize = intFlag(args, 'batch', 1, 1024) ?? 4;
  const calib = intFlag(args, 'calib', 1, 4096) ?? 8;
  const faults = intFlag(args, 'faults', 1, 100_000) ?? 1;
  const kinds = (stringFlag(args, 'kinds')?.split(',') ?? [...SOAK_KINDS]) as SoakKind[];
  for (const k of kinds) if (!SOAK_KINDS.includes(k)) throw new UsageError(`--kinds: '${k}' is not one of ${SOAK_KINDS.join(', ')}.`);

  const modelPath = stringFlag(args, 'model');
  const modelArgs: ParsedArgs = { command: null, positional: modelPath ? [modelPath] : [], flags: args.flags };
  if (!args.flags.has('limit')) args.flags.set('limit', String(calib + 3 * batchSize));
  const file = await readModelArg(modelArgs, true);
  const model = importViT(file.bytes);
  const { spec } = preprocessingFromArgs(args, model.config);
  const { sources } = await imagesFromArgs(modelArgs, model.config, file.isDemo);
  if (sources.length < calib + 2 * batchSize) throw new UsageError(`Need at least ${calib + 2 * batchSize} images (calibration + two evaluation batches), found ${sources.length}.`);
  const calibSet = await decodeAll(sources.slice(0, calib), spec);
  const evalSources = sources.slice(calib);

  const started = performance.now();
  const ctx = await acquireGpu({ onUncapturedError: (m) => console.error(`[webgpu] ${m}`) });
  const runner = new ViTRunner(ctx, model);
  const soak = new SoakRunner({
    ctx, model, runner, sources: evalSources, spec, batchSize, calibPixels: calibSet.pixels, calibCount: calibSet.count,
    asmo: tinyAsmoSettings({ iters: intFlag(args, 'asmo-iters', 1, 1_000_000) ?? 2, batch: Math.min(4, calibSet.count) }),
  });
  await ctx.pool.settle();
  const baseline = ctx.pool.snapshot();
  console.log(`adapter: ${ctx.adapterInfo}${ctx.features.length ? ` (optional features offered, none used: ${ctx.features.join(', ')})` : ''}`);
  console.log(`model: ${file.path} (${model.config.depth} blocks, dim ${model.config.dim}, ${model.config.tokens} tokens), weights ${mb(runner.weights.bytes)}`);
  console.log(`images: ${evalSources.length} evaluated in batches of ${batchSize}, ${calibSet.count} for calibration and ASMO; kinds: ${kinds.join(', ')}`);
  console.log(`baseline: ${mb(baseline.bytesInUse)} in ${baseline.buffersInUse} buffers in use, ${mb(baseline.bytesAllocated)} allocated\n`);

  const all: SoakStep[] = [], allocatedAfter: number[] = [];
  for (let round = 1; round <= runs; round++) {
    const t0 = performance.now();
    const steps = await soakRound(soak, kinds, undefined, faults);
    all.push(...steps);
    const snap = ctx.pool.snapshot();
    allocatedAfter.push(snap.bytesAllocated);
    const first = steps[0].before, last = steps[steps.length - 1].after;
    const bad = describeProblems(steps);
    console.log(`round ${round}/${runs}: ${steps.length} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s; `
      + `in use ${mb(first.bytesInUse)} / ${first.buffersInUse} buffers before, ${mb(last.bytesInUse)} / ${last.buffersInUse} after; `
      + `allocated ${mb(snap.bytesAllocated)} (free ${mb(snap.bytesFree)})`);
    for (const line of bad) console.log(`  PROBLEM ${line}`);
  }

  const final = ctx.pool.snapshot(), seconds = (performance.now() - started) / 1000;
  console.log('\nruns per kind (complete / cancelled / throws), mean seconds of a complete run:');
  for (const kind of kinds) {
    const of = (mode: string) => all.filter((s) => s.kind === kind && s.mode === mode);
    const c = of('complete');
    console.log(`  ${kind.padEnd(21)} ${c.length} / ${of('cancelled').length} / ${of('throws').length}   ${(c.reduce((a, s) => a + s.seconds, 0) / Math.max(1, c.length)).toFixed(2)} s`);
  }
  const leaked = leaks(all), problems = all.filter((s) => s.problem), grew = allocatedAfter.slice(1).some((b) => b > allocatedAfter[0]);
  console.log(`\nGPU bytes in use: ${baseline.bytesInUse} before, ${final.bytesInUse} after; buffers in use: ${baseline.buffersInUse} before, ${final.buffersInUse} after`);
  console.log(`bytes allocated after each round: ${allocatedAfter.join(', ')}${grew ? ' (GREW after the first round)' : ' (flat after the first round)'}`);
  console.log(`${all.length} runs, ${leaked.length} leaking, ${problems.length} with an unexpected outcome; elapsed ${seconds.toFixed(1)} s`);
  if (args.flags.has('json')) console.log(JSON.stringify({ baseline, final, allocatedAfter, steps: all, seconds }));

  runner.dispose();
  ctx.dispose();
  return leaked.length || problems.length || grew || final.bytesInUse !== baseline.bytesInUse ? 1 : 0;
}

function headerHelp(): string {
  return 'npm run soak -- [--runs K] [--model m.onnx --images dir [--preset half]] [--limit N] [--calib N] [--batch B] [--asmo-iters I] [--kinds a,b] [--faults F] [--json]';
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e instanceof AdfqError ? `${e.name}: ${e.message}` : e);
  process.exit(2);
});
