/** What the UI can ask for. Each action talks to the engine worker and writes summaries into the store. */
import { assignLabels } from '../engine/data/labels.ts';
import { parseClassList, type ClassList } from '../engine/data/class-list.ts';
import { normalizationPreset } from '../engine/image/normalization.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import { EngineClient, EngineRequestError } from './engine-client.ts';
import { fileRunOf } from './file-run.ts';
import { initialAsmoLive, initialStatistics, patch, useStudio, type DataImage, type PresetName } from './store.ts';
import { revokeThumbnails } from './thumbnails.ts';
import { evalResume, PendingRunTracker, type PendingRun } from './persist/pending-run.ts';
import { rememberModelFile } from './persist/session.ts';
import { recoverEngine, withRecovery } from './recovery.ts';
import { keepInterrupted } from './interrupted-run.ts';
import { resumePoint } from '../worker/run-checkpoint.ts';
import type { ErrorInfo, WorkerImage } from '../worker/protocol.ts';

let client: EngineClient | null = null;
let cancelRunning: (() => void) | null = null;
/**
 * The loaded model's file, kept here (not in the store: it can be hundreds of MB and is no summary) so
 * "Restart GPU" can upload it again to a fresh device after a device loss.
 */
let currentModel: { name: string; bytes: Uint8Array; isDemo: boolean } | null = null;

export function engineClient(): EngineClient | null { return client; }

export function asInfo(e: unknown): ErrorInfo {
  if (e instanceof EngineRequestError) return e.info;
  return { code: 'internal', message: String((e as Error)?.message ?? e) };
}

export async function startEngine(): Promise<void> {
  if (!('gpu' in navigator)) {
    patch('engine', { status: 'failed', error: { code: 'no-webgpu', message: 'This browser has no WebGPU. Use Chrome or Edge 113+ (on Linux start it with --enable-unsafe-webgpu --enable-features=Vulkan), Safari 26+, or Firefox 141+ on Windows.' } });
    return;
  }
  client?.terminate();
  client = new EngineClient((error) => {
    // Every running request was rejected by the client; each waits for this restart and resumes (recovery.ts).
    patch('engine', { status: 'recovering', error });
    void recoverEngine();
  });
  try {
    const r = await client.init();
    patch('engine', { status: 'ready', adapter: r.adapter, isSoftware: r.isSoftware, maxBindingBytes: r.maxBindingBytes, maxBufferBytes: r.maxBufferBytes, error: null });
  } catch (e) {
    patch('engine', { status: 'failed', error: asInfo(e) });
  }
}

/** Tests only (window.adfqDebug): simulate a device loss in the worker. */
export function loseDeviceForTest(): void {
  client?.loseDevice();
}

/** After a device loss: a new worker and device, and the current model uploaded again. */
export async function restartGpu(): Promise<void> {
  patch('engine', { status: 'starting', error: null });
  await startEngine();
  if (currentModel && useStudio.getState().engine.status === 'ready') {
    await loadModel(currentModel.name, currentModel.bytes, currentModel.isDemo, { keepResults: true });
  }
}

/** Loads a model; a rejected file leaves the current model (and its results) in place. */
export async function loadModel(name: string, bytes: Uint8Array, isDemo = false, o: { keepResults?: boolean } = {}): Promise<void> {
  if (!client) return;
  patch('model', { loading: name, error: null });
  try {
    // postMessage copies (nothing is transferred), so the kept bytes survive for a restart.
    const loaded = await client.loadModel(name, bytes);
    currentModel = { name, bytes, isDemo };
    rememberModelFile(currentModel);
    patch('model', { loaded, loading: null, isDemo });
    if (o.keepResults) return;
    const pre = loaded.summary.preprocessing;
    const preset: PresetName = pre ? 'model' : 'imagenet';
    const norm = pre ?? { ...normalizationPreset('imagenet'), resize: Math.floor(loaded.summary.imageSize / 0.875) };
    patch('preprocessing', { preset, mean: norm.mean, std: norm.std, resize: norm.resize });
    clearResults();
    await relabel();
  } catch (e) {
    patch('model', { loading: null, error: asInfo(e) });
  }
}

/** Results belong to one model and one dataset. */
function clearResults(): void {
  patch('evaluation', { result: null, done: 0, total: 0, error: null });
  if (!useStudio.getState().statistics.running) useStudio.setState({ statistics: initialStatistics });
  // A run still going finishes on the old model and images; its result is dropped (generation differs).
  // A loaded adfq-studio export keeps its own quantizers as a run (file-run.ts), selected so the explorer draws them.
  const generation = useStudio.getState().quantization.generation + 1;
  const fileRun = fileRunOf(useStudio.getState().model.loaded, 1, generation, currentSpec());
  patch('quantization', { runs: fileRun ? [fileRun] : [], selected: fileRun?.id ?? null, error: null, generation });
  // Exports belong to the runs (their bytes, kept by export-actions.ts, are keyed by generation too).
  patch('export', { builds: {} });
  useStudio.setState({ asmo: initialAsmoLive });
}

let imagenetList: ClassList | null = null;

async function classListFor(numClasses: number): Promise<ClassList | null> {
  if (numClasses !== 1000) return null;
  imagenetList ??= parseClassList(await (await fetch('/imagenet-classes.tsv')).text(), 'imagenet-classes.tsv');
  return imagenetList;
}

/** Sets the dataset from files with relative paths (folder uploads keep them), labelling by path. */
export async function setImages(files: { path: string; bytes: Uint8Array }[], o: { keepResults?: boolean } = {}): Promise<void> {
  const model = useStudio.getState().model.loaded;
  const numClasses = model?.summary.numClasses ?? 1000;
  const labels = assignLabels(files, { classList: await classListFor(numClasses), modelLabels: model?.labels ?? null, numClasses });
  const images: DataImage[] = labels.items.map((it) => ({ name: it.entry.path, label: it.label, bytes: it.entry.bytes! }));
  revokeThumbnails();
  patch('data', { images, labelSource: labels.labelSource, unknown: labels.unknown, warnings: labels.warnings });
  if (!o.keepResults) clearResults();
}

/** Labels depend on the model (its class list): recompute them when the model changes. */
async function relabel(): Promise<void> {
  const { images } = useStudio.getState().data;
  if (images.length) await setImages(images.map((im) => ({ path: im.name, bytes: im.bytes })), { keepResults: true });
}

export function setPreset(preset: PresetName): void {
  const model = useStudio.getState().model.loaded;
  if (preset === 'model' && model?.summary.preprocessing) {
    const p = model.summary.preprocessing;
    patch('preprocessing', { preset, mean: p.mean, std: p.std, resize: p.resize });
  } else if (preset === 'imagenet' || preset === 'half') {
    patch('preprocessing', { preset, ...normalizationPreset(preset) });
  } else {
    patch('preprocessing', { preset });
  }
}

export function setNormalization(mean: number[], std: number[], resize: number): void {
  patch('preprocessing', { preset: 'custom', mean, std, resize });
}

/** The preprocessing the engine applies, from the page's settings and the model's input. */
export function currentSpec(): PreprocessSpec | null {
  const s = useStudio.getState();
  const model = s.model.loaded;
  if (!model) return null;
  const channels = model.summary.inChannels === 1 ? 1 : 3;
  const p = s.preprocessing;
  const fit = (v: number[]) => (v.length === channels ? v : new Array(channels).fill(v[0]));
  return { resize: p.resize, imageSize: model.summary.imageSize, mean: fit(p.mean), std: fit(p.std), channels };
}

/** Copies, not transfers: the page keeps its images for thumbnails and later runs. */
export function workerImages(): WorkerImage[] {
  return useStudio.getState().data.images.map((im) => ({ name: im.name, label: im.label, bytes: im.bytes.slice() }));
}

/**
 * Evaluates every image. A device loss restarts the engine and goes on after the last finished batch;
 * `resumeFrom` (an interrupted evaluation from the last session) does the same after a reload.
 */
export async function runEvaluation(batchSize = 8, resumeFrom?: PendingRun): Promise<void> {
  const s = useStudio.getState();
  const spec = resumeFrom?.spec ?? currentSpec();
  if (!client || !spec || s.evaluation.running) return;
  const images = workerImages();
  if (resumeFrom) batchSize = resumeFrom.batchSize;
  patch('evaluation', { running: true, done: evalResume(resumeFrom ?? null)?.consumed ?? 0, total: images.length, error: null, notice: null });
  const tracker = new PendingRunTracker(resumeFrom ?? { kind: 'evaluate', label: 'Evaluation', batchSize, spec, resume: {}, startedAt: new Date().toISOString() });
  let interrupted = false;
  try {
    const result = await withRecovery('the evaluation', () => {
      const run = client!.evaluate(images, spec, batchSize, (done, total) => patch('evaluation', { done, total }),
        evalResume(tracker.run), (c) => tracker.apply(c), (notice) => patch('evaluation', { notice }));
      cancelRunning = run.cancel;
      return run.done;
    }, { onRecovering: () => patch('evaluation', { error: null }), resumePoint: () => resumePoint(tracker.run.resume) });
    patch('evaluation', { result, running: false });
  } catch (e) {
    const info = asInfo(e);
    interrupted = info.code === 'device-lost';
    patch('evaluation', { running: false, error: info });
  } finally {
    cancelRunning = null;
    // Stopped by device losses: it can still be resumed after its last batch; any other end forgets it.
    if (interrupted) keepInterrupted(tracker.run);
    else await tracker.end();
  }
}

export function cancelEvaluation(): void {
  cancelRunning?.();
}

/** The embedded demo: model and labelled sample images listed in public/demo/manifest.json. */
export async function loadDemo(): Promise<void> {
  const manifest = await (await fetch('/demo/manifest.json')).json() as { model: string; images: string[] };
  const bytes = new Uint8Array(await (await fetch(`/demo/${manifest.model}`)).arrayBuffer());
  // Whatever the user opened while the demo was downloading wins over the demo.
  if (userOpened) return;
  await loadModel(`${manifest.model} (demo)`, bytes, true);
  const files = await Promise.all(manifest.images.map(async (path) => ({
    path, bytes: new Uint8Array(await (await fetch(`/demo/images/${path}`)).arrayBuffer()),
  })));
  if (!userOpened) await setImages(files);
}

let userOpened = false;
/** Called when the user opens or drops files, so a demo still loading does not replace them. */
export function markUserOpened(): void { userOpened = true; }
