/**
 * Issue 7 (device loss, nothing lost): the studio's quantize request resumed from any of its checkpoints
 * (after calibration, after an ASMO module, after the optimisation, inside either evaluation) gives the
 * result of the uninterrupted run, parameter for parameter and image for image; so does a plain evaluation
 * resumed after a batch; a run aborted midway resumes from what it had sent; GPU bytes in use return to
 * the baseline. This is the worker code the page runs (src/worker/quantize-request.ts), on the demo model.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ASMO_SETTINGS } from '../src/engine/asmo/settings.ts';
import { Engine } from '../src/engine/engine.ts';
import { evaluate, type EvalProgress } from '../src/engine/eval/evaluate.ts';
import type { PreprocessSpec } from '../src/engine/image/transform.ts';
import { DEFAULT_QUANTIZE_SETTINGS, type QuantizeSettings } from '../src/engine/quant/quantize.ts';
import type { QuantizeRunResult, WorkerImage } from '../src/worker/protocol.ts';
import { runQuantize } from '../src/worker/quantize-request.ts';
import { applyCheckpoint, type RunCheckpoint, type RunResume } from '../src/worker/run-checkpoint.ts';
import { DEMO_DIR } from './quant-model-helpers.ts';

const SPEC: PreprocessSpec = { resize: 28, imageSize: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], channels: 3 };
const SETTINGS: QuantizeSettings = {
  ...DEFAULT_QUANTIZE_SETTINGS, method: 'adfq', bitsW: 4, bitsA: 4,
  asmo: { ...DEFAULT_ASMO_SETTINGS, iters: 4, batch: 4, modules: { patch: false, attention: true, mlp: true, head: true }, seed: 3 },
};
const CALIB = 8, BATCH = 4;

/** Two images of every demo class (labels by folder order), the first `CALIB` of the split calibrate. */
function images(): WorkerImage[] {
  const classes = readdirSync(new URL('images/', DEMO_DIR)).sort();
  return classes.flatMap((c, label) => readdirSync(new URL(`images/${c}/`, DEMO_DIR)).sort().slice(0, 2)
    .map((f) => ({ name: `${c}/${f}`, label, bytes: new Uint8Array(readFileSync(new URL(`images/${c}/${f}`, DEMO_DIR))) })));
}

let engine: Engine;
const all = images();

async function run(resume?: RunResume, onCheckpoint?: (c: RunCheckpoint) => void, signal = new AbortController().signal): Promise<QuantizeRunResult> {
  return runQuantize(engine, {
    images: all, spec: SPEC, batchSize: BATCH, calibSize: CALIB, settings: SETTINGS, signal, onProgress: () => {}, resume, onCheckpoint,
  });
}

/** Everything but the clocks. */
const outcome = (r: QuantizeRunResult) => ({
  params: r.params, sites: r.sites, fp32: r.fp32, quantized: r.quantized, predictions: r.predictions, skipped: r.skipped, calibNames: r.calibNames,
  modules: r.asmo?.modules.map(({ seconds: _s, ...m }) => m), accuracy: r.asmo?.accuracy,
});

beforeAll(async () => {
  engine = await Engine.create();
  engine.loadModel(new Uint8Array(readFileSync(new URL('vit-fmnist-outliers.onnx', DEMO_DIR))));
});
afterAll(() => engine?.dispose());

describe('a quantize run resumed from a checkpoint equals the uninterrupted run', () => {
  const checkpoints: RunCheckpoint[] = [];
  let full: QuantizeRunResult, baseline: number;

  beforeAll(async () => {
    await engine.gpu.pool.settle();
    baseline = engine.gpu.pool.bytesInUse;
    full = await run(undefined, (c) => checkpoints.push(structuredClone(c)));
  });

  it('sends every stage: calibration, each module, the optimisation, both evaluations batch by batch', () => {
    const stages = checkpoints.map((c) => (c.stage === 'eval-batch' ? `${c.phase}` : c.stage));
    const modules = stages.filter((s) => s === 'asmo-module').length;
    expect(stages[0]).toBe('calibrated');
    expect(modules).toBe(full.asmo!.modules.length);
    expect(stages.indexOf('asmo-done')).toBe(1 + modules);
    const evalBatches = Math.ceil(full.evalImages / BATCH);
    expect(stages.filter((s) => s === 'fp32')).toHaveLength(evalBatches);
    expect(stages.filter((s) => s === 'quantized')).toHaveLength(evalBatches);
    expect(engine.gpu.pool.bytesInUse).toBe(baseline);
  });

  it('from after calibration, after module 1 and 2 of the optimisation, after it, and inside both evaluations', async () => {
    const at = (pred: (c: RunCheckpoint) => boolean, nth = 0) => checkpoints.findIndex((c, i) => pred(c) && checkpoints.slice(0, i + 1).filter(pred).length === nth + 1);
    const points = [
      at((c) => c.stage === 'calibrated'),
      at((c) => c.stage === 'asmo-module', 0), at((c) => c.stage === 'asmo-module', 1),
      at((c) => c.stage === 'asmo-done'),
      at((c) => c.stage === 'eval-batch' && c.phase === 'fp32', 1),
      at((c) => c.stage === 'eval-batch' && c.phase === 'quantized', 0),
    ];
    expect(points.every((p) => p >= 0)).toBe(true);
    for (const p of points) {
      const resume = checkpoints.slice(0, p + 1).reduce(applyCheckpoint, {} as RunResume);
      const later: RunCheckpoint[] = [];
      const resumed = await run(resume, (c) => later.push(c));
      expect(outcome(resumed), `resumed after checkpoint ${p} (${checkpoints[p].stage})`).toEqual(outcome(full));
      // Nothing finished before the checkpoint is done again.
      expect(later.length).toBe(checkpoints.length - p - 1);
      expect(engine.gpu.pool.bytesInUse).toBe(baseline);
    }
  });

  it('an aborted run resumes from the checkpoints it had sent', async () => {
    const abort = new AbortController(), sent: RunCheckpoint[] = [];
    const stopped = await run(undefined, (c) => { sent.push(c); if (c.stage === 'asmo-module') abort.abort(); }, abort.signal).catch((e) => e);
    expect((stopped as { code?: string }).code).toBe('cancelled');
    expect(engine.gpu.pool.bytesInUse).toBe(baseline);
    const resumed = await run(sent.reduce(applyCheckpoint, {} as RunResume));
    expect(outcome(resumed)).toEqual(outcome(full));
  });
});

describe('an evaluation resumed after a batch', () => {
  it('gives the same predictions; a checkpoint that does not fit the images is refused', async () => {
    const sources = all.map((im) => ({ name: im.name, label: im.label, load: async () => im.bytes }));
    const opts = { sources, predict: engine.predict, spec: SPEC, numClasses: engine.model.config.numClasses, batchSize: BATCH };
    const progress: EvalProgress[] = [];
    const full = await evaluate({ ...opts, onCheckpoint: (p) => progress.push(structuredClone(p)) });
    expect(progress.map((p) => p.consumed)).toEqual(Array.from({ length: Math.ceil(all.length / BATCH) }, (_, i) => Math.min((i + 1) * BATCH, all.length)));
    const resumed = await evaluate({ ...opts, resume: progress[2] });
    expect(resumed.predictions).toEqual(full.predictions);
    expect(resumed.top1).toBe(full.top1);
    await expect(evaluate({ ...opts, resume: { ...progress[0], consumed: all.length + 1 } })).rejects.toMatchObject({ code: 'usage' });
  });
});
