/**
 * ASMO's settings (ADFQ.md §5) and the plain-data events and results of a run: no GPU code, so the page
 * imports them without pulling the training kernels into its bundle.
 */
import { AdfqError, UsageError } from '../errors.ts';
import type { ViTQuantParams } from '../quant/params.ts';

export type GradientMode = 'default' | 'ste-lsq';
export type KlAxis = 'heads' | 'keys';
export type AsmoModuleKind = 'patch' | 'attention' | 'mlp' | 'head';

export interface AsmoSettings {
  /** Optimiser steps per module (§5.4: 3000, the published command). */
  iters: number;
  /** Mini-batch drawn with replacement each step. */
  batch: number;
  /** AdaRound α: Adam lr, constant. */
  lrWeights: number;
  /** Input step sizes Δ: Adam lr, cosine to 0 over the steps. */
  lrSteps: number;
  /** Rounding regulariser: λ, β from betaStart to betaEnd after `warmup` of the steps. */
  roundWeight: number;
  betaStart: number;
  betaEnd: number;
  warmup: number;
  /** Attention term: softmax(A/T) over the head axis (released code) or the key axis; weight ×10. */
  klTemperature: number;
  klWeight: number;
  klAxis: KlAxis;
  /** QDrop: each input element from the quantized model with this probability, else from the FP model. */
  dropProb: number;
  /** §5.5: 'default' = the released code's gradient paths; 'ste-lsq' = STE everywhere, LSQ step gradients. */
  gradients: GradientMode;
  /** Which kinds of modules are optimised; the others keep their calibrated parameters and nearest rounding. */
  modules: Record<AsmoModuleKind, boolean>;
  /** Seeds the mini-batch draws and the QDrop masks: the same seed gives bit-identical results. */
  seed: number;
}

export const DEFAULT_ASMO_SETTINGS: AsmoSettings = {
  iters: 3000, batch: 32, lrWeights: 3e-3, lrSteps: 4e-5, roundWeight: 0.01, betaStart: 20, betaEnd: 2, warmup: 0.2,
  klTemperature: 4, klWeight: 10, klAxis: 'heads', dropProb: 0.5, gradients: 'default',
  modules: { patch: true, attention: true, mlp: true, head: true }, seed: 0,
};

/** The paper's reconstruction set (§5.2); the studio and CLI default to it when the images are there. */
export const DEFAULT_ASMO_CALIB_IMAGES = 1024;

export function checkAsmoSettings(s: AsmoSettings): void {
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new UsageError(`ASMO ${name} must be a whole number from ${lo} to ${hi}, not ${v}.`);
  };
  const pos = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0)) throw new UsageError(`ASMO ${name} must be a finite number ≥ 0, not ${v}.`);
  };
  int('iterations', s.iters, 1, 1_000_000);
  int('batch size', s.batch, 1, 4096);
  int('seed', s.seed, 0, 2 ** 31 - 1);
  pos('weight learning rate', s.lrWeights);
  pos('step-size learning rate', s.lrSteps);
  pos('rounding weight λ', s.roundWeight);
  pos('attention-term weight', s.klWeight);
  if (!(s.betaStart >= 1 && s.betaEnd >= 1 && Number.isFinite(s.betaStart) && Number.isFinite(s.betaEnd))) {
    throw new UsageError(`ASMO β must run between finite values ≥ 1, not ${s.betaStart} → ${s.betaEnd}.`);
  }
  if (!(s.warmup >= 0 && s.warmup < 1)) throw new UsageError(`ASMO warm-up must be a share from 0 to below 1, not ${s.warmup}.`);
  if (!(s.klTemperature > 0 && Number.isFinite(s.klTemperature))) throw new UsageError(`ASMO attention temperature must be positive, not ${s.klTemperature}.`);
  if (!(s.dropProb >= 0 && s.dropProb <= 1)) throw new UsageError(`ASMO QDrop probability must be from 0 to 1, not ${s.dropProb}.`);
  if (s.gradients !== 'default' && s.gradients !== 'ste-lsq') throw new UsageError(`ASMO gradient mode must be 'default' or 'ste-lsq', not '${String(s.gradients)}'.`);
  if (s.klAxis !== 'heads' && s.klAxis !== 'keys') throw new UsageError(`ASMO KL axis must be 'heads' or 'keys', not '${String(s.klAxis)}'.`);
  if (!Object.values(s.modules).some(Boolean)) throw new UsageError('ASMO needs at least one kind of module to optimise.');
}

/** One module in forward order: 'patch', then per block 'attention' and 'mlp', then 'head' (and 'head-dist'). */
export interface AsmoModuleId {
  kind: AsmoModuleKind;
  /** Block index for attention and mlp; null otherwise. */
  block: number | null;
  /** DeiT-distilled: the distillation head is its own module. */
  dist?: boolean;
}

export function asmoModuleName(m: AsmoModuleId): string {
  if (m.kind === 'patch') return 'patch embedding';
  if (m.kind === 'head') return m.dist ? 'distillation head' : 'head';
  return `block ${m.block} ${m.kind === 'attention' ? 'attention' : 'MLP'}`;
}

/** Loss terms at one step (before the update of that step). */
export interface AsmoLossPoint {
  step: number;
  /** L_rec, L_round (0 during the warm-up), L_attn (0 outside attention modules) and their sum. */
  rec: number;
  round: number;
  attn: number;
  total: number;
}

/** AdaRound's choices over a module's weights: share rounded up (floor + 1) and share that differ from nearest. */
export interface RoundingShare {
  weights: number;
  up: number;
  changed: number;
}

export interface AsmoModuleReport {
  module: AsmoModuleId;
  name: string;
  iters: number;
  /** Losses sampled every `curveEvery` steps plus the last step. */
  curve: AsmoLossPoint[];
  rounding: RoundingShare;
  /** L_rec of the hardened module on a fixed sample of the reconstruction set, before and after (nearest vs hardened rounding, calibrated vs learned Δ). */
  recBefore: number;
  recAfter: number;
  seconds: number;
}

export interface AsmoAccuracyPoint {
  /** Blocks finished so far (0 after the patch embedding … blocks; the last point is the whole model). */
  blocksDone: number;
  label: string;
  top1: number;
  images: number;
}

export type AsmoEvent =
  | { type: 'phase'; text: string }
  | { type: 'module-start'; module: AsmoModuleId; name: string; index: number; total: number }
  /** New points of the running module's curve (a few per second at most), plus the rounding share so far. */
  | { type: 'losses'; index: number; points: AsmoLossPoint[]; rounding: RoundingShare | null }
  /** `checkpoint`: the run's state after this module, a snapshot the run no longer touches (save it to resume). */
  | { type: 'module-done'; index: number; report: AsmoModuleReport; checkpoint: AsmoCheckpoint }
  | { type: 'accuracy'; point: AsmoAccuracyPoint };

/** An event as the page draws it: a finished module without its checkpoint (that travels once, as a checkpoint). */
export type AsmoLiveEvent = Exclude<AsmoEvent, { type: 'module-done' }> | Omit<Extract<AsmoEvent, { type: 'module-done' }>, 'checkpoint'>;

/** Drops the checkpoint (megabytes of rounding masks) from a finished module's event. */
export function liveEvent(e: AsmoEvent): AsmoLiveEvent {
  if (e.type !== 'module-done') return e;
  const { checkpoint: _checkpoint, ...rest } = e;
  return rest;
}

export interface AsmoMemoryPlan {
  images: number;
  /** Two residual streams (quantized and FP model) of every reconstruction image. */
  streamBytes: number;
  /** 'gpu': the streams live on the GPU; 'host': in host memory, each mini-batch uploaded per step. */
  storage: 'gpu' | 'host';
  /** One step's working set at the chosen batch (activations, gradients, weights, Adam state). */
  stepBytes: number;
  /** GPU bytes the run needs at most. */
  peakBytes: number;
  /** A sentence for the UI and CLI. */
  summary: string;
}

/** A finished run, as plain data (the params carry the hardened rounding and learned step sizes). */
export interface AsmoSummary {
  settings: AsmoSettings;
  /** Reconstruction images (the first 256 of them initialised the quantizers). */
  images: number;
  modules: AsmoModuleReport[];
  accuracy: AsmoAccuracyPoint[];
  memory: AsmoMemoryPlan;
  seconds: number;
}

/**
 * A run's state after its first `finished` modules, as plain JSON-safe data: resuming from it
 * (AsmoInput.resume) skips those modules and ends with what the uninterrupted run returns, bit for bit.
 */
export interface AsmoCheckpoint {
  version: 1;
  settings: AsmoSettings;
  /** Modules finished, in run order. */
  finished: number;
  total: number;
  /** The calibration result with the finished modules' hardened rounding and learned Δ applied. */
  params: ViTQuantParams;
  modules: AsmoModuleReport[];
  accuracy: AsmoAccuracyPoint[];
  /** Seconds spent so far, over every run that led here. */
  seconds: number;
  /**
   * The model's shape, the bit widths, the images' count and hashes (model weights, reconstruction
   * images, calibration params, held-out images) and the seed: a checkpoint of another setup is refused.
   */
  fingerprint: string;
}

/** A checkpoint that cannot continue this run (another model, settings or images, or not a checkpoint). */
export class AsmoResumeError extends AdfqError {
  constructor(message: string) { super('asmo-resume', message); }
}
