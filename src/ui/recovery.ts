/**
 * Device loss, handled once for the whole page: the engine is restarted (a new worker and device, the
 * model uploaded again) as soon as the loss is reported, and every run that it interrupted waits for that
 * restart, then goes on from its last checkpoint (withRecovery). A run that loses the device
 * MAX_LOSSES_PER_RUN times stops with a message; finished results are never touched.
 */
import { EngineRequestError } from './engine-client.ts';
import { asInfo, restartGpu } from './actions.ts';
import { patch, useStudio } from './store.ts';

/** A run that loses the device this many times stops (something keeps killing it: a driver, memory pressure). */
export const MAX_LOSSES_PER_RUN = 4;

let restarting: Promise<boolean> | null = null;

/** Every recovery of a run, in order: what was running and where it went on from (shown to tests through adfqDebug). */
export const recoveryLog: { what: string; losses: number; resumedFrom: string | null; at: string }[] = [];

/** Restarts the engine (once, however many runs ask); true when it is ready again with the model loaded. */
export function recoverEngine(): Promise<boolean> {
  restarting ??= (async () => {
    try {
      await restartGpu();
      const s = useStudio.getState();
      const ok = s.engine.status === 'ready' && s.model.error === null;
      patch('engine', ok ? { recoveries: s.engine.recoveries + 1, lastRecovery: new Date().toISOString() } : { status: 'lost' });
      return ok;
    } finally {
      restarting = null;
    }
  })();
  return restarting;
}

export interface RecoveryHooks {
  /** Called after each loss, before the restart: the page says what is happening. */
  onRecovering?: (losses: number) => void;
  /** Where the run will go on from (for the log). */
  resumePoint?: () => string | null;
  /** Restarts the engine; true when ready again (default recoverEngine; tests pass their own). */
  recover?: () => Promise<boolean>;
}

/**
 * Runs `attempt` until it ends other than by a device loss; after each loss the engine is recovered and
 * `attempt` is called again (it resumes from its own checkpoint).
 */
export async function withRecovery<T>(what: string, attempt: () => Promise<T>, hooks: RecoveryHooks = {}): Promise<T> {
  const { onRecovering, resumePoint, recover = recoverEngine } = hooks;
  for (let losses = 0; ; ) {
    try {
      return await attempt();
    } catch (e) {
      if (asInfo(e).code !== 'device-lost') throw e;
      losses++;
      if (losses >= MAX_LOSSES_PER_RUN) {
        throw new EngineRequestError({ code: 'device-lost', message: `The GPU device was lost ${losses} times during ${what}, so it was stopped. Finished results are kept; a smaller batch size or closing other GPU-heavy tabs may help.` });
      }
      onRecovering?.(losses);
      if (!await recover()) {
        throw new EngineRequestError({ code: 'device-lost', message: `The GPU device was lost during ${what} and could not be restarted. Finished results are kept; use "Restart GPU", or reload the page and restore the session.` });
      }
      recoveryLog.push({ what, losses, resumedFrom: resumePoint?.() ?? null, at: new Date().toISOString() });
    }
  }
}
