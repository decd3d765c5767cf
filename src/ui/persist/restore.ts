/**
 * Start-up: a session saved by an earlier visit is offered (the banner), restored on request (model file,
 * images, results, an interrupted run to resume) or discarded. Saving starts once the user has chosen, or
 * at once when nothing was saved.
 */
import { loadModel, markUserOpened } from '../actions.ts';
import { keepInterrupted } from '../interrupted-run.ts';
import { initialStatistics, patch, useStudio, type SessionOffer } from '../store.ts';
import { pendingInfo, readPendingRun, type PendingRun } from './pending-run.ts';
import { readSession, startSaving } from './session.ts';

type Saved = NonNullable<Awaited<ReturnType<typeof readSession>>>;
let saved: { session: Saved; pending: PendingRun | undefined } | null = null;

/** Reads the saved session; offers it when it holds anything worth restoring, else starts saving this one. */
export async function offerSavedSession(): Promise<void> {
  try {
    const session = await readSession();
    const pending = await readPendingRun();
    const st = session?.state;
    const worth = st && session.model && (st.quantization.runs.length || st.evaluation.result || st.statistics.summary || pending || !session.model.isDemo);
    if (!worth) { await startSaving(); return; }
    saved = { session, pending };
    const offer: SessionOffer = {
      savedAt: st.savedAt, modelName: st.modelName, images: session.images?.images.length ?? 0, runs: st.quantization.runs.length,
      evaluated: st.evaluation.result !== null, statistics: st.statistics.summary !== null, pending: pending ? pendingInfo(pending) : null,
    };
    patch('session', { offer });
  } catch (e) {
    // No IndexedDB (private mode in some browsers): the studio works, it just cannot keep anything.
    patch('session', { storageError: `This browser does not let the studio keep the session (${(e as Error)?.message ?? e}); results will not survive a reload.` });
  }
}

/** Loads the saved model and images and puts every saved result back on the page. */
export async function restoreSavedSession(): Promise<void> {
  if (!saved) return;
  const { session, pending } = saved;
  markUserOpened();
  patch('session', { restoring: true, error: null });
  try {
    const { state, model, images, asmo } = session;
    await loadModel(model!.name, model!.bytes, model!.isDemo, { keepResults: true });
    const loadError = useStudio.getState().model.error;
    if (loadError) throw new Error(loadError.message);
    if (images) patch('data', { images: images.images, labelSource: images.labelSource, unknown: images.unknown, warnings: images.warnings });
    patch('preprocessing', state.preprocessing);
    patch('evaluation', { result: state.evaluation.result, error: null, done: 0, total: 0 });
    useStudio.setState({ statistics: { ...initialStatistics, summary: state.statistics.summary, site: state.statistics.site } });
    patch('quantization', { ...state.quantization, error: null, running: false });
    patch('export', { ...state.export, builds: {} });
    // An optimisation that was running when the page went away is shown as interrupted, not as still running.
    if (asmo) useStudio.setState({ asmo: { ...asmo, status: asmo.status === 'running' ? 'failed' : asmo.status, paused: false } });
    if (pending) keepInterrupted(pending);
    patch('session', { offer: null, restoring: false });
    saved = null;
    await startSaving();
  } catch (e) {
    patch('session', { restoring: false, error: { code: 'restore', message: `The saved session could not be restored (${(e as Error)?.message ?? e}).` } });
  }
}

/** Forgets the saved session and starts saving this one. */
export async function discardSavedSession(): Promise<void> {
  saved = null;
  patch('session', { offer: null });
  await startSaving({ clear: true });
}
