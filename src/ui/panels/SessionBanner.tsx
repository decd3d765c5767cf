/**
 * The saved session (restore or discard it), an interrupted run (resume it from its checkpoint), and a
 * browser that cannot keep the session.
 */
import { resumeInterrupted, forgetInterrupted } from '../interrupted-run.ts';
import { clearPendingRun } from '../persist/pending-run.ts';
import { discardSavedSession, restoreSavedSession } from '../persist/restore.ts';
import { useStudio, type SessionOffer } from '../store.ts';

function describe(o: SessionOffer): string {
  const parts = [o.modelName ?? 'no model', `${o.images} image${o.images === 1 ? '' : 's'}`];
  if (o.evaluated) parts.push('an evaluation');
  if (o.statistics) parts.push('activation statistics');
  if (o.runs) parts.push(`${o.runs} quantization run${o.runs === 1 ? '' : 's'}`);
  return parts.join(', ');
}

export function SessionBanner() {
  const session = useStudio((s) => s.session);
  // Restoring or resuming replaces what a running request works on: wait for it.
  const busy = useStudio((s) => s.engine.status !== 'ready' || s.evaluation.running || s.quantization.running || s.statistics.running);
  const { offer, pending } = session;
  return (
    <>
      {offer && (
        <div className="notice" role="status" data-testid="restore-offer">
          Your last session ({new Date(offer.savedAt).toLocaleString()}) is saved in this browser: {describe(offer)}.
          {offer.pending && <> An interrupted run can be resumed: {offer.pending.label}{offer.pending.where && `, from ${offer.pending.where}`}.</>}
          {' '}<button disabled={session.restoring || busy} onClick={() => void restoreSavedSession()} data-testid="restore-session">Restore it</button>
          {' '}<button disabled={session.restoring} onClick={() => void discardSavedSession()} data-testid="discard-session">Discard it</button>
          {session.restoring && <span className="muted"> restoring…</span>}
        </div>
      )}
      {!offer && pending && (
        <div className="notice" role="status" data-testid="interrupted-run">
          Interrupted: {pending.label}{pending.where && ` (finished up to ${pending.where})`}.
          {' '}<button disabled={busy} onClick={() => void resumeInterrupted()} data-testid="resume-run">Resume it</button>
          {' '}<button onClick={() => { forgetInterrupted(); void clearPendingRun().catch(() => {}); }} data-testid="forget-run">Forget it</button>
        </div>
      )}
      {session.error && <div className="error" role="alert" data-testid="restore-error">{session.error.message}</div>}
      {session.storageError && <div className="warn" data-testid="storage-error">{session.storageError}</div>}
    </>
  );
}
