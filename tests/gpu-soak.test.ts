/**
 * No GPU leaks (issue 7): with one GPU context and the demo model loaded, every evaluation, statistics
 * collection, calibration (minmax, percentile, adfq), quantized evaluation and ASMO run returns the pool's
 * bytes and buffers in use to exactly what they were before it, whether it finishes, is cancelled half-way
 * or throws half-way (a fault injected at a buffer acquisition); repetitions reuse the pool's buffers, so
 * the bytes allocated stop growing after the first. The cycle is tools/soak/cycle.ts (also `npm run soak`).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { listImageFiles } from '../src/engine/data/node-files.ts';
import { UsageError } from '../src/engine/errors.ts';
import type { ImageSource } from '../src/engine/eval/evaluate.ts';
import type { GpuContext } from '../src/engine/gpu/device.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/quantize.ts';
import { resolvePreprocessing } from '../src/engine/vit/preprocessing.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import {
  decodeAll, describeProblems, faultPoints, SOAK_KINDS, SoakRunner, soakRound, tinyAsmoSettings, type SoakKind, type SoakStep,
} from '../tools/soak/cycle.ts';
import { getGpu, gpuErrors } from './helpers/gpu.ts';

const DEMO = new URL('../public/demo/', import.meta.url);
const REPETITIONS = 3;

let ctx: GpuContext, model: ViTModel, runner: ViTRunner, soak: SoakRunner;
let calib: { pixels: Float32Array; count: number };

beforeAll(async () => {
  ctx = await getGpu();
  model = importViT(new Uint8Array(readFileSync(new URL('vit-fmnist-outliers.onnx', DEMO))));
  const { spec } = resolvePreprocessing(model.config);
  // 20 images over all ten classes: 8 for calibration and ASMO, 12 evaluated in 3 batches of 4.
  const files = (await listImageFiles(new URL('images', DEMO).pathname)).filter((f) => /\/0[01]\.png$/.test(f.path));
  const sources: ImageSource[] = files.map((f, i) => ({ name: f.path, label: i % 10, load: async () => new Uint8Array(readFileSync(f.absolutePath)) }));
  calib = await decodeAll(sources.slice(0, 8), spec);
  runner = new ViTRunner(ctx, model);
  soak = new SoakRunner({
    ctx, model, runner, sources: sources.slice(8), spec, batchSize: 4, calibPixels: calib.pixels, calibCount: calib.count,
    asmo: tinyAsmoSettings({ iters: 2, batch: 4 }),
  });
}, 120_000);

const inUse = () => ({ bytes: ctx.pool.bytesInUse, buffers: ctx.pool.buffersInUse });

describe('GPU memory returns to its baseline', () => {
  it('dispose() of a runner returns exactly its weights', async () => {
    await ctx.pool.settle();
    const before = inUse();
    const fp = new ViTRunner(ctx, model);
    expect(ctx.pool.bytesInUse - before.bytes).toBe(fp.weights.bytes);
    const weightBuffers = ctx.pool.buffersInUse - before.buffers;
    expect(weightBuffers).toBe(4 + 12 * model.config.depth + 4);  // patch w/b, prefix, pos; 12 per block; norm, head
    fp.dispose();
    expect(inUse()).toEqual(before);

    const cal = await calibrate(ctx, model, calib.pixels, calib.count, { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' });
    expect(inUse(), 'calibration returns everything').toEqual(before);
    const q = new QuantViTRunner(ctx, model, cal.params);
    expect(ctx.pool.bytesInUse - before.bytes).toBeGreaterThan(q.weights.bytes);  // plus its quantizers' parameters
    await q.forward(calib.pixels, calib.count);
    q.dispose();
    expect(inUse()).toEqual(before);
    expect(gpuErrors).toEqual([]);
  }, 120_000);

  it(`${REPETITIONS} rounds of every run, complete, cancelled half-way and throwing half-way: in use exactly at baseline, allocations flat`, async () => {
    await ctx.pool.settle();
    const baseline = ctx.pool.snapshot(), allocated: number[] = [], all: SoakStep[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      all.push(...await soakRound(soak));
      allocated.push(ctx.pool.bytesAllocated);
    }
    expect(describeProblems(all)).toEqual([]);
    for (const s of all) {
      expect(s.after.bytesInUse, `${s.kind}/${s.mode}: bytes in use`).toBe(s.before.bytesInUse);
      expect(s.after.buffersInUse, `${s.kind}/${s.mode}: buffers in use`).toBe(s.before.buffersInUse);
    }
    expect(ctx.pool.snapshot().bytesInUse).toBe(baseline.bytesInUse);
    expect(ctx.pool.snapshot().buffersInUse).toBe(baseline.buffersInUse);
    // Every kind ran in every mode each round, and a cancel or a fault really stopped it half-way.
    for (const kind of SOAK_KINDS) for (const mode of ['complete', 'cancelled', 'throws'] as const) {
      expect(all.filter((s) => s.kind === kind && s.mode === mode).length, `${kind}/${mode}`).toBe(REPETITIONS);
    }
    expect(all.filter((s) => s.mode === 'cancelled').every((s) => s.error?.startsWith('CancelledError'))).toBe(true);
    // Pool reuse: after the first round warmed the buckets, nothing new is allocated.
    expect(allocated.slice(1)).toEqual(allocated.slice(1).map(() => allocated[0]));
    expect(gpuErrors).toEqual([]);
  }, 600_000);

  // A fault at acquisitions spread over each kind's run: wherever a run breaks, what it acquired comes
  // back. Wider sweeps: `npm run soak -- --runs 1 --faults 40`.
  const SWEEP: [SoakKind, number][] = [['evaluate', 60], ['stats', 12], ['calibrate-minmax', 12], ['calibrate-percentile', 6],
    ['calibrate-adfq', 4], ['quantized-eval', 12], ['asmo', 8]];
  it.each(SWEEP)('%s throwing at any of %i acquisitions leaks nothing', async (kind, faults) => {
    const complete = await soak.step(kind, 'complete');
    const steps: SoakStep[] = [];
    for (const at of faultPoints(complete.acquisitions, faults)) steps.push(await soak.step(kind, 'throws', at));
    expect(describeProblems(steps)).toEqual([]);
    expect(steps.length).toBeGreaterThan(Math.min(faults, complete.acquisitions) / 2);
  }, 600_000);

  it('calibration on an image with NaN values throws the UsageError and leaks nothing', async () => {
    await ctx.pool.settle();
    const before = inUse(), per = calib.pixels.length / calib.count, bad = calib.pixels.slice();
    bad.fill(NaN, 3 * per, 3 * per + 50);
    await expect(calibrate(ctx, model, bad, calib.count, { ...DEFAULT_QUANTIZE_SETTINGS, method: 'percentile' })).rejects.toBeInstanceOf(UsageError);
    expect(inUse()).toEqual(before);
  }, 120_000);
});
