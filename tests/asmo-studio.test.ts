/**
 * The studio's ASMO pieces that need no browser: the form's checks and defaults (src/ui/asmo-form.ts,
 * quantizeInput), the run label, the live slice's reducer (src/ui/asmo-live.ts) and the worker's pause
 * gate (src/worker/pause-gate.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ASMO_SETTINGS, type AsmoModuleReport } from '../src/engine/asmo/settings.ts';
import { asmoSettings, defaultAsmoCalibSize, defaultAsmoIters, SOFTWARE_ASMO_ITERS } from '../src/ui/asmo-form.ts';
import { applyAsmoEvent } from '../src/ui/asmo-live.ts';
import { runLabel } from '../src/ui/quant-labels.ts';
import { quantizeInput } from '../src/ui/quantize-actions.ts';
import { initialAsmoForm, initialAsmoLive, initialQuantForm, useStudio, type AsmoForm, type AsmoLive, type QuantForm, type StudioState } from '../src/ui/store.ts';
import { PauseGate } from '../src/worker/pause-gate.ts';

const dataset = (classes: number, perClass: number) =>
  Array.from({ length: classes * perClass }, (_, i) => ({ name: `c${i % classes}/${i}.png`, label: i % classes, bytes: new Uint8Array() }));

function state(images: ReturnType<typeof dataset>, form: Partial<QuantForm> = {}, asmo: Partial<AsmoForm> = {}, isSoftware = false) {
  const s = useStudio.getState();
  return {
    model: { ...s.model, loaded: {} as StudioState['model']['loaded'] },
    data: { ...s.data, images },
    quantization: { ...s.quantization, form: { ...initialQuantForm, ...form, asmo: { ...initialAsmoForm, enabled: true, ...asmo } } },
    engine: { isSoftware },
  };
}

describe('the ASMO form', () => {
  it('has the spec\'s defaults; fewer steps are preselected on a software adapter', () => {
    const r = asmoSettings(initialAsmoForm, false);
    expect(r.problem).toBeNull();
    if (r.problem === null) expect(r.settings).toEqual(DEFAULT_ASMO_SETTINGS);
    expect(DEFAULT_ASMO_SETTINGS).toMatchObject({ iters: 3000, lrWeights: 3e-3, lrSteps: 4e-5, roundWeight: 0.01, betaStart: 20, betaEnd: 2, warmup: 0.2, klTemperature: 4, klWeight: 10 });
    expect(defaultAsmoIters(true)).toBe(SOFTWARE_ASMO_ITERS);
    const soft = asmoSettings(initialAsmoForm, true);
    expect(soft.problem === null && soft.settings.iters).toBe(SOFTWARE_ASMO_ITERS);
  });

  it.each([
    ['iterations not a number', { iters: 'many' }, /ASMO iterations must be a number, not 'many'/],
    ['iterations 2.5', { iters: '2.5' }, /ASMO iterations must be a whole number from 1/],
    ['negative λ', { roundWeight: '-1' }, /rounding weight λ must be a finite number ≥ 0/],
    ['warm-up 1', { warmup: '1' }, /warm-up must be a share from 0 to below 1/],
    ['no module', { modules: { patch: false, attention: false, mlp: false, head: false } }, /at least one kind of module/],
  ])('%s is explained', (_, asmo, message) => {
    expect(quantizeInput(state(dataset(10, 4), {}, asmo)).problem).toMatch(message);
  });

  it('goes into the settings for ADFQ only, with the chosen options; the calibration split defaults to min(1024, half)', () => {
    const r = quantizeInput(state(dataset(10, 4), {}, { iters: '30', modules: { patch: false, attention: false, mlp: true, head: true }, gradients: 'ste-lsq', klAxis: 'keys' }));
    expect(r.problem).toBeNull();
    if (r.problem !== null) return;
    expect(r.calibSize).toBe(20);
    expect(r.settings.asmo).toMatchObject({ iters: 30, gradients: 'ste-lsq', klAxis: 'keys', modules: { patch: false, mlp: true } });
    expect(runLabel(r.settings)).toBe('ADFQ + ASMO (30 steps, MLP + head, STE/LSQ, KL over keys)');
    expect(defaultAsmoCalibSize(4000)).toBe(1024);

    const minmax = quantizeInput(state(dataset(10, 4), { method: 'minmax' }, { iters: 'x' }));
    expect(minmax.problem).toBeNull();
    expect(minmax.problem === null && minmax.settings.asmo).toBeUndefined();
    expect(minmax.problem === null && minmax.calibSize).toBe(32);
  });

  it('labels a default run by its steps', () => {
    expect(runLabel({ method: 'adfq', bitsW: 4, bitsA: 4, ablation: { slq: true }, tauQkv: 5, tauFc1: 10, asmo: { ...DEFAULT_ASMO_SETTINGS } }))
      .toBe('ADFQ −SLQ + ASMO (3000 steps)');
  });
});

describe('the live ASMO slice', () => {
  const report = (name: string, index: number): AsmoModuleReport => ({
    module: { kind: 'mlp', block: index }, name, iters: 3, curve: [0, 1, 2].map((step) => ({ step, rec: 1, round: 0, attn: 0, total: 1 })),
    rounding: { weights: 10, up: 0.5, changed: 0.1 }, recBefore: 2, recAfter: 1, seconds: 1,
  });
  const apply = (live: AsmoLive, ...events: Parameters<typeof applyAsmoEvent>[1][]) => events.reduce((l, e) => ({ ...l, ...applyAsmoEvent(l, e) }), live);

  it('streams a module\'s points, keeps finished modules and accuracy points, and starts each module empty', () => {
    const p = (step: number) => ({ step, rec: 2, round: 0, attn: 0.5, total: 2.5 });
    let live = apply({ ...initialAsmoLive, status: 'running', iters: 3 },
      { type: 'module-start', module: { kind: 'mlp', block: 0 }, name: 'block 0 MLP', index: 0, total: 2 },
      { type: 'losses', index: 0, points: [p(0), p(1)], rounding: null },
      { type: 'losses', index: 0, points: [p(2)], rounding: { weights: 10, up: 0.4, changed: 0.2 } });
    expect(live.points.map((x) => x.step)).toEqual([0, 1, 2]);
    expect(live.rounding?.up).toBe(0.4);
    live = apply(live, { type: 'module-done', index: 0, report: report('block 0 MLP', 0) }, { type: 'accuracy', point: { blocksDone: 1, label: 'block 0', top1: 0.5, images: 8 } });
    expect(live.modules.map((m) => m.name)).toEqual(['block 0 MLP']);
    expect(live.points).toEqual(report('block 0 MLP', 0).curve);
    expect(live.accuracy).toHaveLength(1);
    live = apply(live, { type: 'module-start', module: { kind: 'head', block: null }, name: 'head', index: 1, total: 2 },
      { type: 'losses', index: 0, points: [p(5)], rounding: null });
    expect(live.current?.name).toBe('head');
    expect(live.points).toEqual([]);
  });
});

describe('PauseGate', () => {
  it('holds waiters while paused and lets them go on resume or open', async () => {
    const gate = new PauseGate(), order: string[] = [];
    await gate.wait();
    gate.set(true);
    const a = gate.wait().then(() => order.push('a'));
    await Promise.resolve();
    expect(order).toEqual([]);
    gate.set(false);
    await a;
    gate.set(true);
    const b = gate.wait().then(() => order.push('b'));
    gate.open();
    await b;
    expect(order).toEqual(['a', 'b']);
    expect(gate.paused).toBe(false);
  });
});
