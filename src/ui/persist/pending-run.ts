/**
 * The long request in flight, with everything it has finished (run-checkpoint.ts's RunResume): kept in
 * memory for a device loss and in IndexedDB (record 'pending') for a tab crash or reload. Cleared when the
 * run ends, however it ends, except by a crash: a 'pending' record found at start-up is an interrupted run.
 */
import type { EvalProgress } from '../../engine/eval/evaluate.ts';
import type { PreprocessSpec } from '../../engine/image/transform.ts';
import type { QuantizeSettings } from '../../engine/quant/settings.ts';
import { applyCheckpoint, resumePoint, type RunCheckpoint, type RunResume } from '../../worker/run-checkpoint.ts';
import { idbDelete, idbGet, idbPut } from './idb.ts';
import { isSaving } from './session.ts';

export type PendingRun =
  | { kind: 'evaluate'; label: string; batchSize: number; spec: PreprocessSpec; resume: RunResume; startedAt: string }
  | { kind: 'quantize'; label: string; batchSize: number; spec: PreprocessSpec; calibSize: number; settings: QuantizeSettings;
      resume: RunResume; startedAt: string };

/** What the page shows about an interrupted run. */
export interface PendingInfo { kind: PendingRun['kind']; label: string; where: string | null }

export const pendingInfo = (p: PendingRun): PendingInfo => ({ kind: p.kind, label: p.label, where: resumePoint(p.resume) });

/** Evaluations resume from their 'fp32' progress (the only phase a plain evaluation has). */
export const evalResume = (p: PendingRun | null): EvalProgress | undefined => p?.resume.fp32;

const SAVE_EVERY_MS = 1000;

/** One in-flight run's checkpoints: folded as they come, written at most once a second (modules at once). */
export class PendingRunTracker {
  private lastWrite = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;

  constructor(public run: PendingRun) { this.write(); }

  apply(c: RunCheckpoint): void {
    this.run = { ...this.run, resume: applyCheckpoint(this.run.resume, c) } as PendingRun;
    const urgent = c.stage !== 'eval-batch';
    if (urgent || Date.now() - this.lastWrite > SAVE_EVERY_MS) this.write();
    else this.timer ??= setTimeout(() => { this.timer = null; this.write(); }, SAVE_EVERY_MS);
  }

  /** The run finished, failed or was cancelled: nothing to resume. */
  async end(): Promise<void> {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    if (isSaving()) await idbDelete('pending').catch(() => {});
  }

  private write(): void {
    this.lastWrite = Date.now();
    if (!this.ended && isSaving()) void idbPut('pending', this.run).catch(() => {});
  }
}

export const readPendingRun = () => idbGet<PendingRun>('pending');
export const clearPendingRun = () => idbDelete('pending');
