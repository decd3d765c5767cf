/**
 * The studio's session in IndexedDB, written as results are produced: the model file and the images
 * (records 'model' and 'images', written when they change), the summaries shown on the page (record
 * 'state': evaluation, statistics summary, quantization runs with every parameter, i.e. everything a report
 * is built from; record 'asmo': the optimisation's curves) and an interrupted run's checkpoint
 * (record 'pending', pending-run.ts). A reload offers to restore it (restore.ts).
 *
 * While a restore is offered nothing is written, so the fresh page (the demo) cannot overwrite the session
 * the user may still want; choosing Restore or Discard starts the writing again.
 */
import type { DataImage, StudioState } from '../store.ts';
import { useStudio } from '../store.ts';
import { idbClear, idbGet, idbPut } from './idb.ts';

export const SESSION_VERSION = 1;

export interface SavedModel { name: string; isDemo: boolean; bytes: Uint8Array }
export interface SavedImages { images: DataImage[]; labelSource: string; unknown: StudioState['data']['unknown']; warnings: string[] }
export interface SavedState {
  version: number;
  savedAt: string;
  modelName: string | null;
  preprocessing: StudioState['preprocessing'];
  evaluation: EvaluationResultOnly;
  statistics: Pick<StudioState['statistics'], 'summary' | 'site'>;
  quantization: Pick<StudioState['quantization'], 'form' | 'runs' | 'selected' | 'levelToken' | 'generation'>;
  export: Pick<StudioState['export'], 'opset' | 'int4'>;
}
type EvaluationResultOnly = Pick<StudioState['evaluation'], 'result'>;

/** The model file as loaded; kept by actions.ts for a GPU restart, saved here for a reload. */
let modelFile: SavedModel | null = null;
let writing = false, starting = false;
const SAVE_DELAY_MS = 300;

/** Every value stateRecord reads: the record is written again when one of them changes (by reference). */
const stateInputs = (s: StudioState): unknown[] => [
  s.model.loaded, s.preprocessing, s.evaluation.result, s.statistics.summary, s.statistics.site, s.quantization.form,
  s.quantization.runs, s.quantization.selected, s.quantization.levelToken, s.quantization.generation, s.export.opset, s.export.int4,
];

function stateRecord(s: StudioState): SavedState {
  const q = s.quantization;
  return {
    version: SESSION_VERSION, savedAt: new Date().toISOString(), modelName: s.model.loaded?.name ?? null,
    preprocessing: s.preprocessing, evaluation: { result: s.evaluation.result },
    statistics: { summary: s.statistics.summary, site: s.statistics.site },
    quantization: { form: q.form, runs: q.runs, selected: q.selected, levelToken: q.levelToken, generation: q.generation },
    export: { opset: s.export.opset, int4: s.export.int4 },
  };
}

/** Records the model file so the next save writes it (called by loadModel). */
export function rememberModelFile(m: SavedModel): void {
  modelFile = m;
  if (writing) void idbPut('model', m).catch(reportStorageError);
}

function reportStorageError(e: unknown): void {
  useStudio.setState((s) => ({ session: { ...s.session, storageError: `The session could not be saved in this browser (${(e as Error)?.message ?? e}); results stay on the page but will not survive a reload.` } }));
}

/**
 * One tab saves: two tabs writing one session would overwrite each other's runs. The Web Lock is held for
 * the page's life (released when the tab closes or reloads); a second tab says it does not save.
 */
function holdSessionLock(): Promise<boolean> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    void locks.request('adfq-studio-session', { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock ? new Promise<void>(() => {}) : undefined;
    });
  });
}

/**
 * Debounced writes of whatever slice changed; the model and images only when they change. `clear`: the
 * saved session is deleted first (Discard), and only by the tab that holds the lock.
 */
export async function startSaving(o: { clear?: boolean } = {}): Promise<void> {
  if (writing || starting) return;
  starting = true;
  const mine = await holdSessionLock();
  starting = false;
  if (!mine) {
    useStudio.setState((s) => ({ session: { ...s.session, storageError: 'Another adfq-studio tab is open in this browser and keeps the saved session; this tab\'s work is not saved. Close the other tab and reload this one to keep it.' } }));
    return;
  }
  if (o.clear) await idbClear().catch(reportStorageError);
  writing = true;
  let timer: ReturnType<typeof setTimeout> | null = null, dirtyState = true, dirtyAsmo = true;
  const flush = () => {
    timer = null;
    const s = useStudio.getState();
    if (dirtyState) void idbPut('state', stateRecord(s)).catch(reportStorageError);
    if (dirtyAsmo) void idbPut('asmo', s.asmo).catch(reportStorageError);
    dirtyState = dirtyAsmo = false;
  };
  const schedule = () => { timer ??= setTimeout(flush, SAVE_DELAY_MS); };
  if (modelFile) void idbPut('model', modelFile).catch(reportStorageError);
  void saveImages(useStudio.getState().data);
  schedule();
  useStudio.subscribe((s, prev) => {
    if (s.data.images !== prev.data.images) void saveImages(s.data);
    if (s.asmo !== prev.asmo) { dirtyAsmo = true; schedule(); }
    const before = stateInputs(prev);
    if (stateInputs(s).some((v, i) => v !== before[i])) {
      dirtyState = true;
      schedule();
    }
  });
}

export const isSaving = () => writing;

async function saveImages(d: StudioState['data']): Promise<void> {
  const rec: SavedImages = { images: d.images, labelSource: d.labelSource, unknown: d.unknown, warnings: d.warnings };
  await idbPut('images', rec).catch(reportStorageError);
}

/** The saved session's records, or null when there is none (or it is from another version). */
export async function readSession(): Promise<{ state: SavedState; model: SavedModel | undefined; images: SavedImages | undefined; asmo: StudioState['asmo'] | undefined } | null> {
  const state = await idbGet<SavedState>('state');
  if (!state || state.version !== SESSION_VERSION) return null;
  const [model, images, asmo] = await Promise.all([idbGet<SavedModel>('model'), idbGet<SavedImages>('images'), idbGet<StudioState['asmo']>('asmo')]);
  return { state, model, images, asmo };
}
