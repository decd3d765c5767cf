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
import { DEFAULT_TAU_FC1, DEFAULT_TAU_QKV, type Ablation, type ActQuant, type ViTQuantParams } from './params.ts';
import { cpuSearch, gpuSearch } from './search-backend.ts';
import type { QuantSiteId } from './sites.ts';

export const METHODS = ['adfq', 'minmax', 'percentile'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method, string> = {
  adfq: 'ADFQ quantizers (calibration only)',
  minmax: 'MinMax (per tensor)',
  percentile: 'Percentile-MSE (per tensor)',
};

export interface QuantizeSettings {
  method: Method;
  bitsW: number;
  bitsA: number;
  /** adfq only: which ADFQ quantizers are replaced by per-tensor uniform ones. */
  ablation: Ablation;
  tauQkv: number;
  tauFc1: number;
}

export const DEFAULT_QUANTIZE_SETTINGS: QuantizeSettings = {
  method: 'adfq', bitsW: 4, bitsA: 4, ablation: {}, tauQkv: DEFAULT_TAU_QKV, tauFc1: DEFAULT_TAU_FC1,
};

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

export function checkSettings(s: QuantizeSettings): void {
  for (const [name, b] of [['weight', s.bitsW], ['activation', s.bitsA]] as const) {
    if (!(Number.isInteger(b) && b >= 2 && b <= 8)) throw new UsageError(`The ${name} bit width must be an integer from 2 to 8, not ${b}.`);
  }
  if (!METHODS.includes(s.method)) throw new UsageError(`Unknown method '${s.method}' (use ${METHODS.join(', ')}).`);
  for (const [name, t] of [['qkv', s.tauQkv], ['fc1', s.tauFc1]] as const) {
    if (!(Number.isFinite(t) && t > 0)) throw new UsageError(`The PPOQ threshold τ for the ${name} input must be a positive number, not ${t}.`);
  }
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
