/**
 * Resuming ASMO from a checkpoint (issue 7) on the two-block micro ViT of asmo-micro.test.ts: after any
 * finished module, and after a run cancelled inside a module, the resumed run returns what the
 * uninterrupted one does, bit for bit (params with rounding masks, module reports but their timings,
 * accuracy points); a checkpoint of another setup is refused before anything is allocated.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runAsmo, type AsmoInput } from '../src/engine/asmo/optimize.ts';
import {
  AsmoResumeError, DEFAULT_ASMO_SETTINGS, type AsmoCheckpoint, type AsmoEvent, type AsmoModuleReport, type AsmoSettings,
} from '../src/engine/asmo/settings.ts';
import { CancelledError } from '../src/engine/errors.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/quantize.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { getGpu, gpuErrors } from './helpers/gpu.ts';

const load = (name: string) => importViT(new Uint8Array(readFileSync(new URL(`fixtures/onnx/${name}.onnx`, import.meta.url))));
const N = 16, HELD = 6;

/** Image-like inputs in the normalised range (as asmo-micro.test.ts: smooth patterns plus noise). */
function images(n: number, c: { inChannels: number; imageSize: number }, seed: number): Float32Array {
  const per = c.inChannels * c.imageSize ** 2, out = new Float32Array(n * per);
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  for (let i = 0; i < n * per; i++) {
    const x = i % c.imageSize, y = Math.floor(i / c.imageSize) % c.imageSize, k = Math.floor(i / per);
    out[i] = Math.sin(((1 + (k % 5)) * x) / 5) * Math.cos(((1 + (k % 3)) * y) / 7) + 0.6 * rnd();
  }
  return out;
}

const model = load('odd_p5_c4_op17_tanhpow');
const PIXELS = images(N, model.config, 7);
const SETTINGS: AsmoSettings = { ...DEFAULT_ASMO_SETTINGS, batch: 8, iters: 12, seed: 3 };
const heldOut = { pixels: images(HELD, model.config, 11), labels: Int32Array.from({ length: HELD }, (_, i) => i % model.config.numClasses), count: HELD };

/** The input of one setup: its model, images, calibration (cached per model) and held-out images. */
const calibrations = new Map<ViTModel, Awaited<ReturnType<typeof calibrate>>>();
async function inputFor(m: ViTModel, pixels: Float32Array, settings = SETTINGS): Promise<AsmoInput> {
  const ctx = await getGpu();
  if (!calibrations.has(m)) calibrations.set(m, await calibrate(ctx, m, pixels, N, { ...DEFAULT_QUANTIZE_SETTINGS, bitsW: 4, bitsA: 4 }));
  return { pixels, n: N, params: calibrations.get(m)!.params, settings, heldOut: m === model ? heldOut : null };
}

async function run(resume: AsmoCheckpoint | null, o: { events?: AsmoEvent[]; onEvent?: (e: AsmoEvent) => void; signal?: AbortSignal } = {}) {
  const ctx = await getGpu(), input = await inputFor(model, PIXELS), events = o.events ?? [];
  const r = await runAsmo(ctx, model, { ...input, resume }, { onEvent: (e) => { events.push(e); o.onEvent?.(e); }, signal: o.signal });
  expect(gpuErrors).toEqual([]);
  return { ...r, events, checkpoints: checkpointsOf(events) };
}

const checkpointsOf = (events: AsmoEvent[]) => events.flatMap((e) => (e.type === 'module-done' ? [e.checkpoint] : []));
/** Module reports without their timings (the only thing a resumed run may change). */
const untimed = (ms: AsmoModuleReport[]) => ms.map(({ seconds: _, ...rest }) => rest);

/** The uninterrupted run, once: its result and every checkpoint. */
let full: Awaited<ReturnType<typeof run>> | null = null;
const fullRun = async () => (full ??= await run(null));

function expectSameResult(r: { params: unknown; summary: { modules: AsmoModuleReport[]; accuracy: unknown } }, f: typeof r) {
  expect(r.params).toEqual(f.params);
  expect(JSON.stringify(r.params)).toBe(JSON.stringify(f.params));
  expect(untimed(r.summary.modules)).toEqual(untimed(f.summary.modules));
  expect(r.summary.accuracy).toEqual(f.summary.accuracy);
}

describe('resuming ASMO from a checkpoint', () => {
  it('the uninterrupted run emits one snapshot checkpoint per module, cumulative', async () => {
    const f = await fullRun(), ck = f.checkpoints;
    expect(ck.map((c) => [c.finished, c.total])).toEqual([1, 2, 3, 4, 5, 6].map((k) => [k, 6]));
    // Snapshots: the first holds the patch mask only, though the run went on to harden every layer.
    expect(Object.keys(ck[0].params.rounding ?? {})).toEqual(['patch']);
    expect(Object.keys(ck[2].params.rounding ?? {}).sort()).toEqual(['blocks.0.fc1', 'blocks.0.fc2', 'blocks.0.proj', 'blocks.0.qkv', 'patch']);
    expect(ck[0].params.blocks[0]).toEqual(calibrations.get(model)!.params.blocks[0]);
    expect(ck.map((c) => c.modules.length)).toEqual([1, 2, 3, 4, 5, 6]);
    // Accuracy after 'calibrated', then after block 0 (measured after the module-done of block 0 MLP), ...
    expect(ck.map((c) => c.accuracy.length)).toEqual([1, 1, 1, 2, 2, 3]);
    expect(ck.at(-1)!.params).toEqual(f.params);
    expect(JSON.parse(JSON.stringify(ck[3]))).toEqual(ck[3]);  // plain JSON data
  }, 120_000);

  it.each([1, 3, 5])('resuming after module %i of 6 gives the uninterrupted result bit for bit', async (k) => {
    const f = await fullRun(), ctx = await getGpu(), before = ctx.pool.bytesInUse;
    // Through JSON, as the CLI stores it.
    const r = await run(JSON.parse(JSON.stringify(f.checkpoints[k - 1])));
    expect(ctx.pool.bytesInUse).toBe(before);
    expectSameResult(r, f);
    expect(r.events.filter((e) => e.type === 'module-start').map((e) => e.type === 'module-start' && e.index)).toEqual([0, 1, 2, 3, 4, 5].slice(k));
    expect(r.events).toContainEqual({ type: 'phase', text: `Resuming after module ${k} of 6` });
    expect(r.checkpoints.map((c) => c.finished)).toEqual([1, 2, 3, 4, 5, 6].slice(k));
    expect(r.summary.seconds).toBeGreaterThan(f.checkpoints[k - 1].seconds);
  }, 120_000);

  it('a run cancelled inside module 4 leaves the checkpoint after module 3; resuming from it gives the uninterrupted result', async () => {
    const f = await fullRun(), ctx = await getGpu(), before = ctx.pool.bytesInUse, ac = new AbortController(), events: AsmoEvent[] = [];
    const stop = (e: AsmoEvent) => { if (e.type === 'losses' && e.index === 3 && e.points[0].step === 5) ac.abort(); };
    await expect(run(null, { events, onEvent: stop, signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(ctx.pool.bytesInUse, 'the cancelled run returns every buffer').toBe(before);
    const last = checkpointsOf(events).at(-1)!;
    expect(last.finished).toBe(3);
    const comparable = (c: AsmoCheckpoint) => ({ ...c, seconds: 0, modules: untimed(c.modules) });
    expect(comparable(last)).toEqual(comparable(f.checkpoints[2]));
    const r = await run(last);
    expect(ctx.pool.bytesInUse, 'the resumed run returns every buffer').toBe(before);
    expectSameResult(r, f);
  }, 120_000);

  it('a run that ran out of memory may go on at a smaller mini-batch: the finished modules stay, the rest run at the new batch', async () => {
    const f = await fullRun(), ctx = await getGpu(), k = 2, input = await inputFor(model, PIXELS, { ...SETTINGS, batch: 4 });
    const r = await runAsmo(ctx, model, { ...input, resume: f.checkpoints[k - 1] });
    expect(r.summary.settings.batch).toBe(4);
    expect(untimed(r.summary.modules.slice(0, k))).toEqual(untimed(f.summary.modules.slice(0, k)));
    // Module k onwards drew other mini-batches: its curve differs from the batch-8 run's.
    expect(r.summary.modules[k].curve).not.toEqual(f.summary.modules[k].curve);
  }, 120_000);

  it('a checkpoint of another seed, model, images or file is refused with AsmoResumeError before anything is allocated', async () => {
    const f = await fullRun(), ctx = await getGpu(), ck = f.checkpoints[1];
    const refused = async (input: AsmoInput, m: ViTModel, message: RegExp) => {
      const before = ctx.pool.bytesInUse;
      const e = await runAsmo(ctx, m, input).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AsmoResumeError);
      expect((e as Error).message).toMatch(message);
      expect(ctx.pool.bytesInUse).toBe(before);
    };
    const base = await inputFor(model, PIXELS);
    await refused({ ...base, settings: { ...SETTINGS, seed: 4 }, resume: ck }, model, /other optimisation settings: seed 3 in the checkpoint, 4 here/);
    await refused({ ...base, settings: { ...SETTINGS, iters: 13 }, resume: ck }, model, /other optimisation settings: iters 12 in the checkpoint, 13 here/);
    await refused({ ...base, pixels: images(N, model.config, 8), resume: ck }, model, /made for other reconstruction images/);
    await refused({ ...base, heldOut: null, resume: ck }, model, /made for other held-out images/);
    await refused({ ...base, params: { ...base.params, bitsA: 6 }, resume: ck }, model, /made for another calibration/);
    const other = load('odd_p6_c1_op13_erfmul');
    await refused({ ...(await inputFor(other, images(N, other.config, 7))), resume: ck }, other, /This checkpoint was made for another model \(checkpoint 'model: /);
    await refused({ ...base, resume: { ...ck, version: 2 } as unknown as AsmoCheckpoint }, model, /not a version-1 module-wise optimisation checkpoint/);
    await refused({ ...base, resume: { ...ck, finished: 3 } }, model, /says 3 modules are finished but reports 2/);
  }, 120_000);
});
