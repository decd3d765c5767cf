/**
 * One soak cycle over the engine's GPU runs, shared by `npm run soak` (tools/soak/soak.ts) and
 * tests/gpu-soak.test.ts: evaluation (ViTRunner through evaluate()), statistics (collectStats),
 * calibration (minmax, percentile, adfq through quant/quantize.ts calibrate(), as the worker and the CLI),
 * a quantized evaluation (QuantViTRunner) and a short ASMO run (runAsmo), each run to completion,
 * cancelled half-way by an AbortSignal, and made to throw half-way (a fault injected at the middle buffer
 * acquisition of a complete run: BufferPool.beforeAcquire). The pool's counters are read before and
 * after every run; the loaded model's runner lives across the cycle as the studio's Engine holds it.
 */
import { runAsmo } from '../../src/engine/asmo/optimize.ts';
import { DEFAULT_ASMO_SETTINGS, type AsmoSettings } from '../../src/engine/asmo/settings.ts';
import { CancelledError } from '../../src/engine/errors.ts';
import { evaluate, type ImageSource } from '../../src/engine/eval/evaluate.ts';
import type { PoolSnapshot } from '../../src/engine/gpu/buffer-pool.ts';
import type { GpuContext } from '../../src/engine/gpu/device.ts';
import { imageBytesToTensor, type PreprocessSpec } from '../../src/engine/image/index.ts';
import { QuantViTRunner } from '../../src/engine/model/quant-runner.ts';
import type { ViTRunner } from '../../src/engine/model/vit-runner.ts';
import type { ViTQuantParams } from '../../src/engine/quant/params.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS, type Method } from '../../src/engine/quant/quantize.ts';
import { collectStats } from '../../src/engine/stats/collect-stats.ts';
import { DEFAULT_STATS_SETTINGS } from '../../src/engine/stats/types.ts';
import type { ViTModel } from '../../src/engine/vit/description.ts';

export const SOAK_KINDS = ['evaluate', 'stats', 'calibrate-minmax', 'calibrate-percentile', 'calibrate-adfq', 'quantized-eval', 'asmo'] as const;
export type SoakKind = typeof SOAK_KINDS[number];
export const SOAK_MODES = ['complete', 'cancelled', 'throws'] as const;
export type SoakMode = typeof SOAK_MODES[number];

/** The fault `throws` runs inject: thrown by the pool's beforeAcquire hook at one acquisition. */
export class InjectedFault extends Error {
  constructor(readonly at: number) { super(`injected fault at buffer acquisition ${at}`); this.name = 'InjectedFault'; }
}

export interface SoakSetup {
  ctx: GpuContext;
  model: ViTModel;
  /** The loaded model's FP32 runner (the studio's engine.runner); kept across the cycle. */
  runner: ViTRunner;
  /** Evaluation and statistics images (at least two batches, so a cancel lands half-way). */
  sources: ImageSource[];
  spec: PreprocessSpec;
  batchSize: number;
  /** Calibration / reconstruction images, decoded. */
  calibPixels: Float32Array;
  calibCount: number;
  /** ASMO's tiny settings; its start is the adfq calibration of the same round (or of an earlier one). */
  asmo: AsmoSettings;
  bits?: { bitsW: number; bitsA: number };
}

export interface SoakStep {
  kind: SoakKind;
  mode: SoakMode;
  outcome: 'ok' | 'cancelled' | 'threw';
  /** The error a cancelled or throwing run ended with (name: message). */
  error: string | null;
  before: PoolSnapshot;
  after: PoolSnapshot;
  /** Buffer acquisitions the run made (complete runs), or the one a fault was injected at. */
  acquisitions: number;
  seconds: number;
  /** An unexpected outcome (a complete run that failed, a cancel that finished, another error than the fault), else null. */
  problem: string | null;
  /** Labels of the buffers the run left in use (empty when none). */
  leaked: string[];
  /** `throws`: the label of the acquisition the fault hit and the top of its stack (to find the leaking code). */
  faultSite: string | null;
}

/** Decodes sources into one [n, C, S, S] tensor (skipping none: the soak's images are known good). */
export async function decodeAll(sources: readonly ImageSource[], spec: PreprocessSpec): Promise<{ pixels: Float32Array; count: number }> {
  const tensors: Float32Array[] = [];
  for (const s of sources) tensors.push(imageBytesToTensor(await s.load(), s.name, spec));
  const per = tensors[0]?.length ?? 0, pixels = new Float32Array(tensors.length * per);
  tensors.forEach((t, i) => pixels.set(t, i * per));
  return { pixels, count: tensors.length };
}

export const tinyAsmoSettings = (over: Partial<AsmoSettings> = {}): AsmoSettings => ({
  ...DEFAULT_ASMO_SETTINGS, iters: 2, batch: 4, modules: { patch: true, attention: true, mlp: true, head: true }, ...over,
});

/**
 * Runs one kind in one mode. `cancel` aborts half-way (after the first batch / step / module event);
 * `throws` needs `faultAt`, the acquisition (1-based) at which the pool's hook throws. Never throws: an
 * unexpected outcome is the step's `problem`.
 */
export class SoakRunner {
  /** The last adfq calibration, ASMO's starting point. */
  params: ViTQuantParams | null = null;

  constructor(readonly s: SoakSetup) {}

  async step(kind: SoakKind, mode: SoakMode, faultAt = 0): Promise<SoakStep> {
    const pool = this.s.ctx.pool, ac = new AbortController();
    if ((kind === 'asmo' || kind === 'quantized-eval') && !this.params) await this.run('calibrate-adfq', new AbortController(), 'complete');
    await pool.settle();
    const before = pool.snapshot(), held = new Set(pool.buffersHeld()), t0 = performance.now();
    let acquisitions = 0, faultSite: string | null = null;
    pool.beforeAcquire = (_bytes, _usage, label) => {
      acquisitions++;
      if (mode === 'throws' && acquisitions === faultAt) {
        const fault = new InjectedFault(faultAt);
        faultSite = `${label ?? '(no label)'} ← ${(fault.stack ?? '').split('\n').slice(2, 7).map((l) => l.trim().replace(/^at /, '').replace(/\(file:\/\/[^)]*\/(src|tools)\//, '($1/')).join(' ← ')}`;
        throw fault;
      }
    };
    let outcome: SoakStep['outcome'] = 'ok', error: string | null = null;
    try {
      await this.run(kind, ac, mode);
    } catch (e) {
      outcome = e instanceof CancelledError ? 'cancelled' : 'threw';
      error = `${(e as Error).name}: ${(e as Error).message}`;
    } finally {
      pool.beforeAcquire = null;
    }
    await pool.settle();
    const expected = mode === 'complete' ? 'ok' : mode === 'cancelled' ? 'cancelled' : 'threw';
    const problem = outcome !== expected ? `ended '${outcome}', expected '${expected}'${error ? ` (${error})` : ''}`
      : mode === 'throws' && !error?.startsWith('InjectedFault') ? `threw something else than the injected fault: ${error}` : null;
    const leaked = pool.buffersHeld().filter((b) => !held.has(b)).map((b) => b.label || '(no label)');
    return { kind, mode, outcome, error, before, after: pool.snapshot(), acquisitions: mode === 'throws' ? faultAt : acquisitions,
      seconds: (performance.now() - t0) / 1000, problem, leaked, faultSite };
  }

  private async run(kind: SoakKind, ac: AbortController, mode: SoakMode): Promise<void> {
    const s = this.s, cancel = mode === 'cancelled', signal = ac.signal;
    const evalWith = (predict: (px: Float32Array, b: number) => Promise<Float32Array>) => evaluate({
      sources: s.sources, predict, spec: s.spec, numClasses: s.model.config.numClasses, batchSize: s.batchSize, signal,
      onProgress: (done) => { if (cancel && done >= s.batchSize) ac.abort(); },
    });
    switch (kind) {
      case 'evaluate':
        await evalWith((px, b) => s.runner.forward(px, b));
        return;
      case 'stats':
        await collectStats({
          runner: s.runner, sources: s.sources, spec: s.spec, batchSize: s.batchSize, settings: DEFAULT_STATS_SETTINGS, signal,
          onProgress: (done) => { if (cancel && done >= s.batchSize) ac.abort(); },
        });
        return;
      case 'calibrate-minmax': case 'calibrate-percentile': case 'calibrate-adfq': {
        const method = kind.slice('calibrate-'.length) as Method;
        const r = await calibrate(s.ctx, s.model, s.calibPixels, s.calibCount, { ...DEFAULT_QUANTIZE_SETTINGS, ...(s.bits ?? {}), method }, {
          signal, onProgress: (done, total) => { if (cancel && done >= total / 2) ac.abort(); },
        });
        if (method === 'adfq') this.params = r.params;
        return;
      }
      case 'quantized-eval': {
        const q = new QuantViTRunner(s.ctx, s.model, this.params!);
        try {
          await evalWith((px, b) => q.forward(px, b));
        } finally {
          q.dispose();
        }
        return;
      }
      case 'asmo': {
        const held = Math.min(4, s.calibCount), per = s.calibPixels.length / s.calibCount;
        await runAsmo(s.ctx, s.model, {
          pixels: s.calibPixels, n: s.calibCount, params: this.params!, settings: s.asmo,
          heldOut: { pixels: s.calibPixels.subarray(0, held * per), labels: new Int32Array(held), count: held },
        }, {
          signal,
          // Half-way: the first loss points of the second module.
          onEvent: (e) => { if (cancel && e.type === 'losses' && e.index >= 1) ac.abort(); },
        });
        return;
      }
    }
  }
}

/** `faults` acquisitions spread evenly over 1..total (1 fault: the middle one). */
export function faultPoints(total: number, faults: number): number[] {
  if (faults <= 1) return [Math.max(1, Math.floor(total / 2))];
  const points = Array.from({ length: faults }, (_, i) => 1 + Math.round((i * (total - 1)) / (faults - 1)));
  return [...new Set(points)];
}

/**
 * One round: every kind complete (counting its acquisitions), then cancelled, then throwing at the middle
 * acquisition of its complete run (or at `faults` points spread over all of them). `onStep` sees each step
 * as it ends.
 */
export async function soakRound(r: SoakRunner, kinds: readonly SoakKind[] = SOAK_KINDS, onStep?: (s: SoakStep) => void,
                                faults = 1): Promise<SoakStep[]> {
  const steps: SoakStep[] = [];
  const push = (s: SoakStep) => { steps.push(s); onStep?.(s); };
  for (const kind of kinds) {
    const complete = await r.step(kind, 'complete');
    push(complete);
    push(await r.step(kind, 'cancelled'));
    for (const at of faultPoints(complete.acquisitions, faults)) push(await r.step(kind, 'throws', at));
  }
  return steps;
}

/** Steps whose counters did not return to their baseline. */
export function leaks(steps: readonly SoakStep[]): SoakStep[] {
  return steps.filter((s) => s.after.bytesInUse !== s.before.bytesInUse || s.after.buffersInUse !== s.before.buffersInUse);
}

/** One line per leaking or unexpected step. */
export function describeProblems(steps: readonly SoakStep[]): string[] {
  return steps.filter((s) => s.problem || leaks([s]).length).map((s) => `${s.kind}/${s.mode}${s.mode === 'throws' ? `@${s.acquisitions}` : ''}: `
    + `${s.problem ?? ''}${leaks([s]).length ? ` leaked ${s.after.bytesInUse - s.before.bytesInUse} bytes in ${s.after.buffersInUse - s.before.buffersInUse} buffers`
      + ` [${[...new Set(s.leaked)].join(', ')}]` : ''}${s.faultSite ? `\n      fault at ${s.faultSite}` : ''}`);
}
