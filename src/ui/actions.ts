/** What the UI can ask for. Each action talks to the engine worker and writes summaries into the store. */
import { assignLabels } from '../engine/data/labels.ts';
import { parseClassList, type ClassList } from '../engine/data/class-list.ts';
import { normalizationPreset } from '../engine/image/normalization.ts';
import { EngineClient, EngineRequestError } from './engine-client.ts';
import { patch, useStudio, type DataImage, type PresetName } from './store.ts';
import type { ErrorInfo } from '../worker/protocol.ts';

let client: EngineClient | null = null;
let cancelRunning: (() => void) | null = null;

function asInfo(e: unknown): ErrorInfo {
  if (e instanceof EngineRequestError) return e.info;
  return { code: 'internal', message: String((e as Error)?.message ?? e) };
}

export async function startEngine(): Promise<void> {
  if (!('gpu' in navigator)) {
    patch('engine', { status: 'failed', error: { code: 'no-webgpu', message: 'This browser has no WebGPU. Use Chrome or Edge 113+ (on Linux start it with --enable-unsafe-webgpu --enable-features=Vulkan), Safari 26+, or Firefox 141+ on Windows.' } });
    return;
  }
  client = new EngineClient((error) => {
    patch('engine', { status: 'failed', error });
    patch('evaluation', { running: false });
  });
  try {
    const r = await client.init();
    patch('engine', { status: 'ready', adapter: r.adapter, isSoftware: r.isSoftware, error: null });
  } catch (e) {
    patch('engine', { status: 'failed', error: asInfo(e) });
  }
}

/** Loads a model; a rejected file leaves the current model (and its results) in place. */
export async function loadModel(name: string, bytes: Uint8Array, isDemo = false): Promise<void> {
  if (!client) return;
  patch('model', { loading: name, error: null });
  try {
    const loaded = await client.loadModel(name, bytes);
    patch('model', { loaded, loading: null, isDemo });
    const pre = loaded.summary.preprocessing;
    const preset: PresetName = pre ? 'model' : 'imagenet';
    const norm = pre ?? { ...normalizationPreset('imagenet'), resize: Math.floor(loaded.summary.imageSize / 0.875) };
    patch('preprocessing', { preset, mean: norm.mean, std: norm.std, resize: norm.resize });
    patch('evaluation', { result: null, done: 0, total: 0, error: null });
    await relabel();
  } catch (e) {
    patch('model', { loading: null, error: asInfo(e) });
  }
}

let imagenetList: ClassList | null = null;

async function classListFor(numClasses: number): Promise<ClassList | null> {
  if (numClasses !== 1000) return null;
  imagenetList ??= parseClassList(await (await fetch('/imagenet-classes.tsv')).text(), 'imagenet-classes.tsv');
  return imagenetList;
}

/** Sets the dataset from files with relative paths (folder uploads keep them), labelling by path. */
export async function setImages(files: { path: string; bytes: Uint8Array }[]): Promise<void> {
  const model = useStudio.getState().model.loaded;
  const numClasses = model?.summary.numClasses ?? 1000;
  const labels = assignLabels(files, { classList: await classListFor(numClasses), modelLabels: model?.labels ?? null, numClasses });
  const images: DataImage[] = labels.items.map((it) => ({ name: it.entry.path, label: it.label, bytes: it.entry.bytes! }));
  patch('data', { images, labelSource: labels.labelSource, warnings: labels.warnings });
  patch('evaluation', { result: null, done: 0, total: 0, error: null });
}

/** Labels depend on the model (its class list): recompute them when the model changes. */
async function relabel(): Promise<void> {
  const { images } = useStudio.getState().data;
  if (images.length) await setImages(images.map((im) => ({ path: im.name, bytes: im.bytes })));
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

export async function runEvaluation(batchSize = 8): Promise<void> {
  const s = useStudio.getState();
  const model = s.model.loaded;
  if (!client || !model || s.evaluation.running) return;
  const channels = model.summary.inChannels === 1 ? 1 : 3;
  const p = s.preprocessing;
  const fit = (v: number[]) => (v.length === channels ? v : new Array(channels).fill(v[0]));
  const spec = { resize: p.resize, imageSize: model.summary.imageSize, mean: fit(p.mean), std: fit(p.std), channels: channels as 1 | 3 };
  // Copies, not transfers: the page keeps its images for thumbnails and later runs.
  const images = s.data.images.map((im) => ({ name: im.name, label: im.label, bytes: im.bytes.slice() }));
  patch('evaluation', { running: true, done: 0, total: images.length, error: null });
  const run = client.evaluate(images, spec, batchSize, (done, total) => patch('evaluation', { done, total }));
  cancelRunning = run.cancel;
  try {
    patch('evaluation', { result: await run.done, running: false });
  } catch (e) {
    patch('evaluation', { running: false, error: asInfo(e) });
  } finally {
    cancelRunning = null;
  }
}

export function cancelEvaluation(): void {
  cancelRunning?.();
}

/** The embedded demo: model and labelled sample images listed in public/demo/manifest.json. */
export async function loadDemo(): Promise<void> {
  const manifest = await (await fetch('/demo/manifest.json')).json() as { model: string; images: string[] };
  const bytes = new Uint8Array(await (await fetch(`/demo/${manifest.model}`)).arrayBuffer());
  await loadModel(`${manifest.model} (demo)`, bytes, true);
  const files = await Promise.all(manifest.images.map(async (path) => ({
    path, bytes: new Uint8Array(await (await fetch(`/demo/images/${path}`)).arrayBuffer()),
  })));
  await setImages(files);
}
