/**
 * ASMO's module loop (asmo/optimize.ts) on two-block micro ViTs with odd shapes (37 tokens, 3 heads,
 * width 24, MLP 40, 4 input channels, tanh GELU): each module's reconstruction loss falls, hardened
 * rounding beats nearest rounding on the module's output, the same seed gives bit-identical parameters
 * whether the streams live on the GPU or in host memory, and the params it returns are what inference
 * (QuantViTRunner) computes with.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runAsmo } from '../src/engine/asmo/optimize.ts';
import { DEFAULT_ASMO_SETTINGS, type AsmoEvent, type AsmoModuleReport, type AsmoSettings } from '../src/engine/asmo/settings.ts';
import { CancelledError } from '../src/engine/errors.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/quantize.ts';
import { getGpu, gpuErrors } from './helpers/gpu.ts';

const load = (name: string) => importViT(new Uint8Array(readFileSync(new URL(`fixtures/onnx/${name}.onnx`, import.meta.url))));
const MODEL = 'odd_p5_c4_op17_tanhpow';
const N = 24;

/** Deterministic image-like inputs: smooth per-image patterns plus noise, in the normalised range. */
function images(n: number, c: { inChannels: number; imageSize: number }, seed: number): Float32Array {
  const per = c.inChannels * c.imageSize ** 2, out = new Float32Array(n * per);
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  for (let i = 0; i < n; i++) {
    const fx = 1 + (i % 5), fy = 1 + (i % 3);
    for (let j = 0; j < per; j++) {
      const x = j % c.imageSize, y = Math.floor(j / c.imageSize) % c.imageSize;
      out[i * per + j] = Math.sin((fx * x) / 5) * Math.cos((fy * y) / 7) + 0.6 * rnd();
    }
  }
  return out;
}

const model = load(MODEL), pixels = images(N, model.config, 7);
let calibrated: Awaited<ReturnType<typeof calibrate>> | null = null;

async function optimised(settings: Partial<AsmoSettings>, o: { events?: AsmoEvent[]; host?: boolean; signal?: AbortSignal } = {}) {
  const ctx = await getGpu();
  calibrated ??= await calibrate(ctx, model, pixels, N, { ...DEFAULT_QUANTIZE_SETTINGS, bitsW: 4, bitsA: 4 });
  const r = await runAsmo(ctx, model, { pixels, n: N, params: calibrated.params, settings: { ...DEFAULT_ASMO_SETTINGS, batch: 8, iters: 40, ...settings } },
    { onEvent: (e) => o.events?.push(e), signal: o.signal }, { streamBudget: o.host ? 0 : undefined });
  expect(gpuErrors).toEqual([]);
  return r;
}

/** Mean L_rec over the first and the last ten curve points (one point per step here; batches of 8 are noisy). */
function recTrend(m: AsmoModuleReport) {
  const mean = (ps: AsmoModuleReport['curve']) => ps.reduce((a, p) => a + p.rec, 0) / ps.length;
  return { first: mean(m.curve.slice(0, 10)), last: mean(m.curve.slice(-10)) };
}

/**
 * On its fixed sample, each module's output error with hardened rounding and learned Δ is below nearest +
 * calibrated. Measured on the quantized model's inputs, so these runs train on them only (dropProb 1): with
 * QDrop's mixing the objective is a different one, and on 24 images either may win.
 */
function expectHardenedBeatsNearest(modules: AsmoModuleReport[]): void {
  for (const m of modules) {
    expect(m.recAfter, `${m.name}: hardened rounding + learned Δ beat nearest + calibrated`).toBeLessThan(m.recBefore);
    expect(m.rounding.changed, `${m.name}: some weights leave nearest rounding`).toBeGreaterThan(0);
  }
}

describe('ASMO on a two-block micro ViT', () => {
  it("'ste-lsq' gradients, KL over keys: every module in forward order improves", async () => {
    const events: AsmoEvent[] = [];
    const r = await optimised({ gradients: 'ste-lsq', klAxis: 'keys', iters: 150, dropProb: 1 }, { events });
    expect(r.summary.modules.map((m) => m.name)).toEqual(['patch embedding', 'block 0 attention', 'block 0 MLP', 'block 1 attention', 'block 1 MLP', 'head']);
    expectHardenedBeatsNearest(r.summary.modules);
    for (const m of r.summary.modules) {
      const t = recTrend(m);
      expect(m.curve.length).toBe(75);  // 150 steps, one point per 2 (CURVE_POINTS 100)
      expect(t.last, `${m.name}: L_rec falls during the run`).toBeLessThan(t.first);
    }
    const attn = r.summary.modules[1];
    expect(attn.curve.every((p) => p.attn > 0)).toBe(true);
    expect(r.summary.modules[2].curve.every((p) => p.attn === 0)).toBe(true);
    // The regulariser is off for the first 20% of the steps (30 of 150: points average 2 steps each), then on.
    expect(attn.curve.slice(0, 14).every((p) => p.round === 0)).toBe(true);
    expect(attn.curve.slice(16).every((p) => p.round > 0)).toBe(true);
    expect(Object.keys(r.params.rounding ?? {}).sort()).toEqual(['blocks.0.fc1', 'blocks.0.fc2', 'blocks.0.proj', 'blocks.0.qkv',
      'blocks.1.fc1', 'blocks.1.fc2', 'blocks.1.proj', 'blocks.1.qkv', 'head', 'patch']);
    expect(events.filter((e) => e.type === 'module-start').length).toBe(6);
    expect(events.filter((e) => e.type === 'module-done').length).toBe(6);
  }, 300_000);

  it('default gradients: hardened rounding beats nearest in every module', async () => {
    expectHardenedBeatsNearest((await optimised({ iters: 150, dropProb: 1 })).summary.modules);
  }, 300_000);

  it('default gradients: bit-identical reruns with one seed, GPU or host streams; another seed differs', async () => {
    const a = await optimised({ seed: 3 });
    const b = await optimised({ seed: 3 }, { host: true });
    expect(b.summary.memory.storage).toBe('host');
    expect(JSON.stringify(b.params)).toBe(JSON.stringify(a.params));
    expect(JSON.stringify(b.summary.modules.map((m) => m.curve))).toBe(JSON.stringify(a.summary.modules.map((m) => m.curve)));
    const c = await optimised({ seed: 4 });
    expect(JSON.stringify(c.params)).not.toBe(JSON.stringify(a.params));
  }, 300_000);

  it('the returned params are what inference runs: the head module error equals the runner logits error', async () => {
    const ctx = await getGpu();
    await optimised({ iters: 1 });  // calibrated once, pipelines compiled
    const before = ctx.pool.bytesInUse;
    const r = await optimised({ seed: 5, modules: { patch: true, attention: true, mlp: true, head: true } });
    expect(ctx.pool.bytesInUse, 'a finished run returns every buffer').toBe(before);
    const q = new QuantViTRunner(ctx, model, r.params), fp = new ViTRunner(ctx, model);
    const k = model.config.numClasses, lq = await q.forward(pixels, N), lf = await fp.forward(pixels, N);
    q.dispose();
    fp.dispose();
    let err = 0;
    for (let i = 0; i < N * k; i++) err += (lq[i] - lf[i]) ** 2;
    const head = r.summary.modules.at(-1)!;
    expect(head.name).toBe('head');
    // Only the FP path differs in summation order (pool_head fuses LayerNorm and head).
    expect(Math.abs(err / (N * k) - head.recAfter)).toBeLessThan(1e-4 * head.recAfter);
  }, 300_000);

  it('cancelling stops between steps with CancelledError and returns every buffer', async () => {
    const ctx = await getGpu(), before = ctx.pool.bytesInUse, ac = new AbortController();
    const events: AsmoEvent[] = [];
    const run = optimised({ iters: 400 }, { events: { push: (e: AsmoEvent) => { events.push(e); if (e.type === 'module-done') ac.abort(); return 0; } } as unknown as AsmoEvent[], signal: ac.signal });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(events.filter((e) => e.type === 'module-done').length).toBe(1);
    expect(ctx.pool.bytesInUse).toBe(before);
  }, 300_000);
});
