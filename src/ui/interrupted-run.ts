/**
 * An interrupted run the user can resume: one stopped by repeated device losses, or one found in the
 * saved session after a reload or a tab crash. Resuming sends its checkpoint back with the same request.
 */
import { runEvaluation } from './actions.ts';
import { pendingInfo, type PendingRun } from './persist/pending-run.ts';
import { runQuantization } from './quantize-actions.ts';
import { patch } from './store.ts';

let interrupted: PendingRun | null = null;

export function keepInterrupted(run: PendingRun): void {
  interrupted = run;
  patch('session', { pending: pendingInfo(run) });
}

export function forgetInterrupted(): void {
  interrupted = null;
  patch('session', { pending: null });
}

/** Runs the interrupted request again from its checkpoint (the same images, preprocessing and settings). */
export async function resumeInterrupted(): Promise<void> {
  const run = interrupted;
  if (!run) return;
  forgetInterrupted();
  if (run.kind === 'evaluate') await runEvaluation(run.batchSize, run);
  else await runQuantization(run.batchSize, run);
}
