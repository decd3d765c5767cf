/**
 * The typed messages between the page and the engine worker. Only plain data crosses: summaries,
 * numbers, bytes; GPU handles never leave the worker.
 */
import type { EvalResult } from '../engine/eval/evaluate.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import type { SiteId, SiteStats, StatsSettings, StatsSummary } from '../engine/stats/types.ts';
import type { ModelSummary } from '../engine/vit/summary.ts';

export interface WorkerImage { name: string; label: number | null; bytes: Uint8Array }

export type Request =
  | { kind: 'init'; id: number }
  | { kind: 'load-model'; id: number; name: string; bytes: Uint8Array }
  | { kind: 'evaluate'; id: number; images: WorkerImage[]; spec: PreprocessSpec; batchSize: number }
  | { kind: 'collect-stats'; id: number; images: WorkerImage[]; spec: PreprocessSpec; batchSize: number; settings: StatsSettings }
  | { kind: 'site-stats'; id: number; site: SiteId }
  | { kind: 'cancel'; id: number; target: number }
  /** Tests only: destroys the device, as a driver reset or GPU process crash would. */
  | { kind: 'debug-lose-device'; id: number };

export interface ErrorInfo { code: string; message: string }

export interface LoadedModel {
  name: string;
  summary: ModelSummary;
  labels: string[] | null;
  warnings: string[];
}

export type Response =
  | { kind: 'ready'; id: number; adapter: string; isSoftware: boolean }
  | { kind: 'model'; id: number; model: LoadedModel }
  | { kind: 'progress'; id: number; done: number; total: number; phase?: string }
  | { kind: 'stats-summary'; id: number; summary: StatsSummary }
  | { kind: 'site-stats'; id: number; stats: SiteStats }
  | { kind: 'eval-result'; id: number; result: EvalResult }
  | { kind: 'error'; id: number; error: ErrorInfo }
  | { kind: 'device-lost'; id: 0; error: ErrorInfo };
