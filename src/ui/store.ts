/**
 * The studio's one zustand store: summaries only (no GPU handles, no engine objects, no object URLs),
 * a slice per concern. Actions live in actions.ts / stats-actions.ts as plain functions; components
 * read through small selectors.
 */
import { create } from 'zustand';
import {
  DEFAULT_ASMO_SETTINGS, type AsmoAccuracyPoint, type AsmoLossPoint, type AsmoModuleKind, type AsmoModuleReport, type AsmoSummary,
  type GradientMode, type KlAxis, type RoundingShare,
} from '../engine/asmo/settings.ts';
import type { UnknownLabel } from '../engine/data/labels.ts';
import type { EvalResult, SkippedImage } from '../engine/eval/evaluate.ts';
import type { Accuracy } from '../engine/eval/metrics.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import type { SiteQuantReport } from '../engine/quant/quantize.ts';
import { DEFAULT_QUANTIZE_SETTINGS, type Method, type QuantizeSettings } from '../engine/quant/settings.ts';
import type { SiteId, SiteStats, StatsSummary } from '../engine/stats/types.ts';
import type { ExportSummary } from '../engine/export/export-onnx.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import type { PendingInfo } from './persist/pending-run.ts';
import type { ErrorInfo, ImportedQuantization, LoadedModel, QuantizeTimings, RunPrediction } from '../worker/protocol.ts';

export interface DataImage { name: string; label: number | null; bytes: Uint8Array }

export type PresetName = 'model' | 'imagenet' | 'half' | 'custom';

/** The quantization form as typed: numbers the user types stay strings until they are checked. */
export interface QuantForm {
  method: Method;
  bitsW: number;
  bitsA: number;
  /** adfq only: ablations (PPOQ → uniform on both LayerNorm outputs, SLQ → uniform, log√2 → uniform). */
  noPpoq: boolean; noSlq: boolean; noLog: boolean;
  /** '' = the default: min(32, images − 1); with ASMO min(1024, half the images). */
  calibSize: string;
  tauQkv: string;
  tauFc1: string;
  /** adfq only: module-wise optimisation after calibration. */
  asmo: AsmoForm;
}

/** ASMO's settings as typed (asmo-form.ts checks them); '' in a number field = the spec's default. */
export interface AsmoForm {
  enabled: boolean;
  /** '' = 3000, or fewer preselected on a software adapter (defaultAsmoIters). */
  iters: string;
  modules: Record<AsmoModuleKind, boolean>;
  gradients: GradientMode;
  klAxis: KlAxis;
  batch: string;
  lrWeights: string;
  lrSteps: string;
  roundWeight: string;
  betaStart: string;
  betaEnd: string;
  warmup: string;
  klTemperature: string;
  klWeight: string;
  seed: string;
}

export type AsmoNumberField = 'iters' | 'batch' | 'lrWeights' | 'lrSteps' | 'roundWeight' | 'betaStart' | 'betaEnd' | 'warmup' | 'klTemperature' | 'klWeight' | 'seed';

/** The live (or last) module-wise optimisation: what its events said so far. Kept when the run is cancelled. */
export interface AsmoLive {
  status: 'idle' | 'running' | 'done' | 'cancelled' | 'failed';
  /** The run's label, e.g. 'ADFQ + ASMO (200 steps) W4A4'. */
  label: string;
  paused: boolean;
  /** The engine's latest phase sentence (caching inputs, …). */
  phase: string;
  /** The module being optimised; null between modules and before the first. */
  current: { index: number; total: number; name: string } | null;
  /** Modules to optimise (from the first module-start). */
  total: number;
  /** Steps per module. */
  iters: number;
  /** The running module's loss curve so far. */
  points: AsmoLossPoint[];
  /** The running module's rounding share so far. */
  rounding: RoundingShare | null;
  modules: AsmoModuleReport[];
  accuracy: AsmoAccuracyPoint[];
}

/** One finished quantization run: plain numbers (the params are JSON data, for the level overlay). */
export interface QuantRun {
  id: number;
  /** Method and ablations, e.g. 'ADFQ −SLQ'. */
  label: string;
  settings: QuantizeSettings;
  calibImages: number;
  evalImages: number;
  /** Runs with the same key were evaluated on the same images with the same preprocessing. */
  evalSet: string;
  fp32: Accuracy;
  quantized: Accuracy;
  seconds: number;
  timings: QuantizeTimings;
  backend: 'cpu' | 'gpu';
  /** ASMO's summary when the run optimised module-wise. */
  asmo?: AsmoSummary;
  sites: SiteQuantReport[];
  params: ViTQuantParams;
  skipped: SkippedImage[];
  /** The preprocessing the run calibrated and evaluated with. */
  spec: PreprocessSpec;
  /** Calibration images that decoded, in order; every evaluated image's top-1 (FP32 and quantized). */
  calibNames: string[];
  predictions: RunPrediction[];
  /** ISO time the run finished (the report's date). */
  finishedAt: string;
  /** Set when the quantizers came from the loaded adfq-studio export rather than a calibration here (file-run.ts). */
  fromFile?: FileRunInfo;
}

/** A run read from the loaded export: no calibration, no per-site errors; accuracy once "Evaluate quantized" ran. */
export interface FileRunInfo {
  summary: ImportedQuantization['summary'];
  /** false until an evaluation filled fp32, quantized, predictions (zero until then). */
  evaluated: boolean;
}

export type ExportOpsetChoice = 13 | 17 | 21;

/** One model export of one run with one set of options: built in the worker, its bytes kept outside the store. */
export interface ExportBuild {
  status: 'building' | 'ready' | 'failed';
  summary: ExportSummary | null;
  error: ErrorInfo | null;
}

export interface StudioState {
  /**
   * 'recovering': the GPU device went away and the engine is being restarted (runs resume after it);
   * 'lost': the restart failed; the page offers "Restart GPU".
   */
  engine: {
    status: 'starting' | 'ready' | 'failed' | 'recovering' | 'lost'; adapter: string | null; isSoftware: boolean;
    maxBindingBytes: number | null; maxBufferBytes: number | null; error: ErrorInfo | null;
    /** Device losses recovered from, and when the last one was. */
    recoveries: number; lastRecovery: string | null;
  };
  model: { loaded: LoadedModel | null; loading: string | null; isDemo: boolean; error: ErrorInfo | null };
  data: { images: DataImage[]; labelSource: string; unknown: UnknownLabel[]; warnings: string[] };
  preprocessing: { preset: PresetName; mean: number[]; std: number[]; resize: number };
  /** `notice`: what changed how the last run went (out of memory: a smaller batch), shown beside its result. */
  evaluation: { running: boolean; done: number; total: number; result: EvalResult | null; error: ErrorInfo | null; notice: string | null };
  statistics: {
    running: boolean; phase: string; done: number; total: number; error: ErrorInfo | null;
    summary: StatsSummary | null; site: SiteId; siteStats: SiteStats | null; siteError: ErrorInfo | null;
  };
  quantization: {
    form: QuantForm;
    running: boolean; phase: string; done: number; total: number; error: ErrorInfo | null;
    /** What changed how the last run went (out of memory: a smaller evaluation batch). */
    notice: string | null;
    runs: QuantRun[];
    /** The run whose per-site errors and levels are shown; null: none. */
    selected: number | null;
    /** PPOQ sites: the token whose grid the explorer draws; 'all': every token's grid, faintly. */
    levelToken: number | 'all';
    /** Bumped when the model or dataset changes: a run started before that is dropped when it ends. */
    generation: number;
  };
  asmo: AsmoLive;
  /** Export options and the model exports built so far, by exportKey (export-actions.ts). */
  export: { opset: ExportOpsetChoice; int4: boolean; builds: Record<string, ExportBuild> };
  /** Page-level state: the drag overlay and messages about dropped files. */
  ui: { dragging: boolean; dropNotice: string | null };
  /** The session kept in IndexedDB (persist/): a saved one offered at start-up, an interrupted run to resume. */
  session: {
    offer: SessionOffer | null;
    restoring: boolean;
    /** An interrupted run (restored from the last session, or left by a run stopped by repeated device losses). */
    pending: PendingInfo | null;
    error: ErrorInfo | null;
    storageError: string | null;
  };
}

/** What the restore banner says about the saved session. */
export interface SessionOffer { savedAt: string; modelName: string | null; images: number; runs: number; evaluated: boolean; statistics: boolean; pending: PendingInfo | null }

export const initialStatistics: StudioState['statistics'] = {
  running: false, phase: '', done: 0, total: 0, error: null, summary: null, site: { block: 0, kind: 'qkv-in' }, siteStats: null, siteError: null,
};

const d = DEFAULT_QUANTIZE_SETTINGS, a = DEFAULT_ASMO_SETTINGS;
export const initialAsmoForm: AsmoForm = {
  enabled: false, iters: '', modules: { ...a.modules }, gradients: a.gradients, klAxis: a.klAxis,
  batch: String(a.batch), lrWeights: String(a.lrWeights), lrSteps: String(a.lrSteps), roundWeight: String(a.roundWeight),
  betaStart: String(a.betaStart), betaEnd: String(a.betaEnd), warmup: String(a.warmup), klTemperature: String(a.klTemperature),
  klWeight: String(a.klWeight), seed: String(a.seed),
};
export const initialQuantForm: QuantForm = {
  method: d.method, bitsW: d.bitsW, bitsA: d.bitsA, noPpoq: false, noSlq: false, noLog: false,
  calibSize: '', tauQkv: String(d.tauQkv), tauFc1: String(d.tauFc1), asmo: initialAsmoForm,
};

export const initialAsmoLive: AsmoLive = {
  status: 'idle', label: '', paused: false, phase: '', current: null, total: 0, iters: 0, points: [], rounding: null, modules: [], accuracy: [],
};

export const useStudio = create<StudioState>(() => ({
  engine: { status: 'starting', adapter: null, isSoftware: false, maxBindingBytes: null, maxBufferBytes: null, error: null, recoveries: 0, lastRecovery: null },
  model: { loaded: null, loading: null, isDemo: false, error: null },
  data: { images: [], labelSource: '', unknown: [], warnings: [] },
  preprocessing: { preset: 'model', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 256 },
  evaluation: { running: false, done: 0, total: 0, result: null, error: null, notice: null },
  statistics: initialStatistics,
  quantization: { form: initialQuantForm, running: false, phase: '', done: 0, total: 0, error: null, notice: null, runs: [], selected: null, levelToken: 0, generation: 0 },
  asmo: initialAsmoLive,
  export: { opset: 13, int4: false, builds: {} },
  ui: { dragging: false, dropNotice: null },
  session: { offer: null, restoring: false, pending: null, error: null, storageError: null },
}));

/** Replaces one slice partially: `patch('evaluation', { running: true })`. */
export function patch<K extends keyof StudioState>(key: K, value: Partial<StudioState[K]>): void {
  useStudio.setState((s) => ({ [key]: { ...(s[key] as object), ...(value as object) } }) as Partial<StudioState>);
}
