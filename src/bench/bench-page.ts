/**
 * Page side of `npm run bench` (tools/bench/): runs one runtime at a time in this page, our engine or
 * onnxruntime-web (WebGPU or WASM), on the same browser adapter. The Node driver calls
 * `window.adfqBench` through Playwright; results come back as plain arrays.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { Engine } from '../engine/engine.ts';
import { measure, type MeasureOptions } from './measure.ts';
import { randomPixels, type PixelSpec } from './pixels.ts';

export type PageRuntime = 'ours' | 'ort-webgpu' | 'ort-wasm';

interface Loaded {
  info: string;
  run(pixels: Float32Array, spec: PixelSpec): Promise<Float32Array>;
}

// Vite pre-bundles ort's JS away from its .wasm files, so point ort at the package's own dist folder.
ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
// Threads need SharedArrayBuffer, i.e. the COOP/COEP headers the bench server sets.
ort.env.wasm.numThreads = crossOriginIsolated ? navigator.hardwareConcurrency : 1;

let loaded: Loaded | null = null;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function adapterText(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.description].filter((s) => s).join(' / ') || 'unknown adapter';
}

async function loadOurs(bytes: Uint8Array): Promise<Loaded> {
  const engine = await Engine.create();
  engine.loadModel(bytes);
  return { info: engine.adapterInfo, run: (px, spec) => engine.predict(px, spec.batch) };
}

async function loadOrt(bytes: Uint8Array, ep: 'webgpu' | 'wasm'): Promise<Loaded> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  let info = `wasm, ${ort.env.wasm.numThreads} thread(s), crossOriginIsolated=${crossOriginIsolated}`;
  if (ep === 'webgpu') {
    // ort's native WebGPU EP may not expose its device; the page has one adapter anyway, so ask for it.
    const device = await Promise.race([ort.env.webgpu.device, new Promise<undefined>((r) => setTimeout(r, 2000))]).catch(() => undefined);
    info = device?.adapterInfo ? adapterText(device.adapterInfo)
      : `${adapterText((await navigator.gpu.requestAdapter())?.info)} (the page's default adapter)`;
  }
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  return {
    info,
    run: async (px, spec) => {
      const feeds = { [input]: new ort.Tensor('float32', px, [spec.batch, spec.channels, spec.size, spec.size]) };
      const result = await session.run(feeds);
      return result[output].data as Float32Array;
    },
  };
}

/** Loads a model into one runtime (replacing nothing: the driver opens a fresh page per runtime). */
async function load(runtime: PageRuntime, modelUrl: string): Promise<string> {
  const bytes = await fetchBytes(modelUrl);
  loaded = runtime === 'ours' ? await loadOurs(bytes) : await loadOrt(bytes, runtime === 'ort-webgpu' ? 'webgpu' : 'wasm');
  return loaded.info;
}

async function run(spec: PixelSpec, opts: MeasureOptions) {
  if (!loaded) throw new Error('load() first');
  const pixels = randomPixels(spec);
  const m = await measure(() => loaded!.run(pixels, spec), opts);
  return { medianMs: m.medianMs, timesMs: m.timesMs, warmupMs: m.warmupMs, output: Array.from(m.output) };
}

(globalThis as unknown as { adfqBench: unknown }).adfqBench = { load, run, ready: true };
document.body.dataset.ready = 'true';
