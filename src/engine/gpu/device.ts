/**
 * Acquiring a WebGPU device in the page, in a worker, or headless in Node (the `webgpu` package, Dawn).
 * Everything a kernel needs travels in one GpuContext: the device, its limits, the buffer pool and the
 * pipeline cache. Device loss is observed here and only here, and reported through one callback.
 */
import { DeviceLostError, NoWebGPUError } from '../errors.ts';
import { BufferPool } from './buffer-pool.ts';
import { PipelineCache } from './pipeline-cache.ts';

export interface GpuContext {
  device: GPUDevice;
  /** "vendor / architecture / description", e.g. "mesa / software / llvmpipe: ..." (lavapipe). */
  adapterInfo: string;
  /** True for CPU adapters (lavapipe, SwiftShader, WARP): expect ~1000x less throughput. */
  isSoftware: boolean;
  limits: GPUSupportedLimits;
  /**
   * Optional features the adapter offers (e.g. 'shader-f16', 'subgroups', 'timestamp-query'), for the UI.
   * The engine requests none and never needs one: every kernel runs on a device without them.
   */
  features: string[];
  pool: BufferPool;
  pipelines: PipelineCache;
  /** The GPU entry point. Held on purpose: in Node, Dawn's instance dies (and crashes) when this is collected. */
  gpu: GPU;
  /** Destroys every pooled buffer, then the device; `onLost` is not called for this. */
  dispose(): void;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Called once if the device is lost for any reason other than dispose(). */
  onLost?: (error: DeviceLostError) => void;
  /** Called for validation/OOM errors nobody captured with an error scope (default: console.error). */
  onUncapturedError?: (message: string) => void;
  /** Debug switch: never reuse pooled buffers (each acquire creates, each recycle destroys). */
  poolReuse?: boolean;
  /** 'adapter' (default): raise RAISED_LIMITS to the adapter's maximum; 'default': WebGPU's default limits (tests). */
  limits?: 'adapter' | 'default';
}

/** Limits we raise to the adapter's maximum: the defaults (128 MiB bindings, 16 KiB shared) are too small for ViT-L. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;

async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  // Node: load Dawn's binding lazily. The module name is a variable so that Vite never bundles it.
  const moduleName = 'webgpu';
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = await import(/* @vite-ignore */ moduleName);
  } catch {
    throw new NoWebGPUError('This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge, or Firefox/Safari with WebGPU enabled; in Node, install the "webgpu" package.');
  }
  // GPUBufferUsage, GPUMapMode... are globals in browsers; Dawn exports them separately.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return mod.create([]);
}

export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new NoWebGPUError('WebGPU is present but no GPU adapter was found. Enable hardware acceleration in the browser settings, update the GPU driver, or (headless) install a Vulkan driver such as lavapipe (mesa-vulkan-drivers).');
  }
  const requiredLimits: Record<string, number> = {};
  if (options.limits !== 'default') for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  let device: GPUDevice;
  try {
    // No requiredFeatures: the engine depends on no optional feature (tests/gpu-features.test.ts).
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    throw new NoWebGPUError(`The GPU adapter refused to create a device (${(e as Error).message}). Close other GPU-heavy tabs or restart the browser.`);
  }
  const info = adapter.info;
  const adapterInfo = [info.vendor, info.architecture, info.description].filter((s) => s).join(' / ') || 'unknown adapter';
  const isSoftware = /swiftshader|llvmpipe|lavapipe|warp|software|basic render/i.test(adapterInfo)
    || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;

  let disposed = false;
  void device.lost.then((lost) => {
    // Only dispose() is expected; anything else, an explicit destroy() elsewhere included, is a loss.
    if (disposed) return;
    options.onLost?.(new DeviceLostError(`The GPU device was lost (${lost.message || lost.reason}). Reload the page or restart the run; if it repeats, use a smaller batch size.`));
  });
  const report = options.onUncapturedError ?? ((m: string) => console.error(`[webgpu] ${m}`));
  device.onuncapturederror = (ev) => report(ev.error.message);

  const pool = new BufferPool(device, { reuse: options.poolReuse ?? true });
  const features = [...adapter.features].map(String).sort();
  return {
    device, adapterInfo, isSoftware, limits: device.limits, features, pool, gpu,
    pipelines: new PipelineCache(device),
    dispose() {
      if (disposed) return;
      disposed = true;
      pool.dispose();
      device.destroy();
    },
  };
}
