/**
 * The page's device-loss handling as plain logic: a run interrupted by device losses is retried after each
 * recovery and stops, with a sentence, after MAX_LOSSES_PER_RUN losses or when the engine cannot restart;
 * other errors pass through untouched. Checkpoint pieces fold into one resume state (run-checkpoint.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../src/engine/eval/metrics.ts';
import { EngineRequestError } from '../src/ui/engine-client.ts';
import { MAX_LOSSES_PER_RUN, recoveryLog, withRecovery } from '../src/ui/recovery.ts';
import { applyCheckpoint, resumePoint, type RunCheckpoint, type RunResume } from '../src/worker/run-checkpoint.ts';

const lost = () => new EngineRequestError({ code: 'device-lost', message: 'The GPU device was lost (destroyed).' });

describe('withRecovery', () => {
  it('retries after each loss and returns the first success', async () => {
    let calls = 0, recoveries = 0;
    const seen: number[] = [];
    const r = await withRecovery('the test run', async () => { if (++calls < 3) throw lost(); return 'done'; },
      { recover: async () => { recoveries++; return true; }, onRecovering: (n) => seen.push(n), resumePoint: () => `batch ${calls}` });
    expect(r).toBe('done');
    expect(calls).toBe(3);
    expect(recoveries).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(recoveryLog.slice(-2).map((e) => e.resumedFrom)).toEqual(['batch 1', 'batch 2']);
  });

  it(`stops after ${MAX_LOSSES_PER_RUN} losses, saying so`, async () => {
    let calls = 0;
    const e = await withRecovery('the test run', async () => { calls++; throw lost(); }, { recover: async () => true }).catch((x) => x);
    expect(calls).toBe(MAX_LOSSES_PER_RUN);
    expect(e.info.code).toBe('device-lost');
    expect(e.message).toMatch(new RegExp(`lost ${MAX_LOSSES_PER_RUN} times during the test run.*Finished results are kept`));
  });

  it('stops when the engine cannot be restarted, and lets other errors through at once', async () => {
    const e = await withRecovery('the test run', async () => { throw lost(); }, { recover: async () => false }).catch((x) => x);
    expect(e.message).toMatch(/could not be restarted/);
    let calls = 0;
    const usage = new EngineRequestError({ code: 'usage', message: 'bad size' });
    await expect(withRecovery('x', async () => { calls++; throw usage; }, { recover: async () => true })).rejects.toBe(usage);
    expect(calls).toBe(1);
  });
});

describe('applyCheckpoint', () => {
  const pred = (name: string): Prediction => ({ name, label: 0, top5: [0], top5Prob: [1] });
  const batch = (phase: 'fp32' | 'quantized', consumed: number, names: string[], skipped: string[] = []): RunCheckpoint =>
    ({ stage: 'eval-batch', phase, consumed, seconds: consumed / 10, predictions: names.map(pred), skipped: skipped.map((name) => ({ name, reason: 'bad' })) });

  it('accumulates evaluation batches and says where a resumed run starts', () => {
    let r: RunResume = {};
    expect(resumePoint(r)).toBeNull();
    r = [batch('fp32', 4, ['a', 'b', 'c'], ['d']), batch('fp32', 8, ['e', 'f', 'g', 'h'])].reduce(applyCheckpoint, r);
    expect(r.fp32!.consumed).toBe(8);
    expect(r.fp32!.predictions.map((p) => p.name)).toEqual(['a', 'b', 'c', 'e', 'f', 'g', 'h']);
    expect(r.fp32!.skipped.map((s) => s.name)).toEqual(['d']);
    expect(resumePoint(r)).toBe('FP32 evaluation after 8 images');
    r = applyCheckpoint(r, batch('quantized', 4, ['a', 'b', 'c']));
    expect(resumePoint(r)).toBe('quantized evaluation after 4 images');
  });

  it('a new calibration starts a new resume state; a finished optimisation drops the module checkpoint', () => {
    const calibration = { calibNames: ['x'] } as never, asmo = { finished: 2, total: 5 } as never, done = { seconds: 1 } as never;
    let r = applyCheckpoint({ fp32: { consumed: 4, predictions: [], skipped: [], seconds: 0 } }, { stage: 'calibrated', calibration });
    expect(r).toEqual({ calibration });
    r = applyCheckpoint(r, { stage: 'asmo-module', asmo });
    expect(resumePoint(r)).toBe('optimisation after module 2 of 5');
    r = applyCheckpoint(r, { stage: 'asmo-done', done });
    expect(r).toEqual({ calibration, asmoDone: done });
  });
});
