/**
 * The engine's quantization entry point, the same for the CLI, the studio's worker and benchmarks:
 * calibrate every quantizer of ADFQ.md §1 (or a baseline's) on calibration images, and report what it
 * chose and how much error each site's quantizer adds. Progress through a callback; cancellable by an
 * AbortSignal between stages.
 */
import { CancelledError, UsageError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import type { ViTModel } from '../vit/description.ts';
import { calibrateOnGpu, type CalibrationMemoryPlan } from './calibrate-gpu.ts';
import type { ActQuant, ViTQuantParams } from './params.ts';
import { cpuSearch, gpuSearch } from './search-backend.ts';
import { checkSettings, type QuantizeSettings } from './settings.ts';
import type { QuantSiteId } from './sites.ts';

export * from './settings.ts';

/** What one activation quantizer does to the calibration data it was fitted on. */
export interface SiteQuantReport {
  site: QuantSiteId;
  quantizer: ActQuant['kind'];
  /** Mean of (x − x̂)² over every value of the site on the calibration images. */
  mse: number;
  /** 10·log10(Σx² / Σ(x − x̂)²); Infinity when the quantizer is lossless there. */
  sqnrDb: number;
  /** PPOQ: share of values passed through in FP32 (|x| > τ); null for other quantizers. */
  outlierFraction: number | null;
  count: number;
}

export interface CalibrationResult {
  settings: QuantizeSettings;
  params: ViTQuantParams;
  sites: SiteQuantReport[];
  calibImages: number;
  seconds: number;
  /** Where the searches ran. */
  backend: 'cpu' | 'gpu';
  memory: CalibrationMemoryPlan;
}

export interface CalibrationHooks {
  onProgress?: (done: number, total: number, phase: string) => void;
  signal?: AbortSignal;
}


export interface CalibrateOptions {
  /** Where the searches run: 'gpu' (default) or 'cpu' (reads each site back; the GPU path's test oracle). */
  search?: 'gpu' | 'cpu';
}

/**
 * Calibrates `settings.method` on `n` normalised images ([n, Cin, S, S]; the first CALIB_INIT_IMAGES are
 * used) on the quantized model's own activations, site by site (calibrate-gpu.ts).
 */
export async function calibrate(ctx: GpuContext, model: ViTModel, pixels: Float32Array, n: number,
                                settings: QuantizeSettings, hooks: CalibrationHooks = {}, options: CalibrateOptions = {}): Promise<CalibrationResult> {
  checkSettings(settings);
  const per = model.config.inChannels * model.config.imageSize ** 2;
  if (!(Number.isInteger(n) && n >= 1 && pixels.length >= n * per)) throw new UsageError(`Calibration needs at least one image (got ${n}).`);
  if (hooks.signal?.aborted) throw new CancelledError('Calibration cancelled.');
  const search = options.search === 'cpu' ? cpuSearch(ctx) : gpuSearch(ctx);
  return calibrateOnGpu(ctx, model, pixels, n, settings, hooks, search);
}
