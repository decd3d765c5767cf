/**
 * The studio's one zustand store: summaries only (no GPU handles, no engine objects, no object URLs),
 * a slice per concern. Actions live in actions.ts / stats-actions.ts as plain functions; components
 * read through small selectors.
 */
import { create } from 'zustand';
import type { UnknownLabel } from '../engine/data/labels.ts';
import type { EvalResult } from '../engine/eval/evaluate.ts';
import type { SiteId, SiteStats, StatsSummary } from '../engine/stats/types.ts';
import type { ErrorInfo, LoadedModel } from '../worker/protocol.ts';

export interface DataImage { name: string; label: number | null; bytes: Uint8Array }

export type PresetName = 'model' | 'imagenet' | 'half' | 'custom';

export interface StudioState {
  /** 'lost': the GPU device went away; the page offers a restart. */
  engine: { status: 'starting' | 'ready' | 'failed' | 'lost'; adapter: string | null; isSoftware: boolean; error: ErrorInfo | null };
  model: { loaded: LoadedModel | null; loading: string | null; isDemo: boolean; error: ErrorInfo | null };
  data: { images: DataImage[]; labelSource: string; unknown: UnknownLabel[]; warnings: string[] };
  preprocessing: { preset: PresetName; mean: number[]; std: number[]; resize: number };
  evaluation: { running: boolean; done: number; total: number; result: EvalResult | null; error: ErrorInfo | null };
  statistics: {
    running: boolean; phase: string; done: number; total: number; error: ErrorInfo | null;
    summary: StatsSummary | null; site: SiteId; siteStats: SiteStats | null; siteError: ErrorInfo | null;
  };
  /** Page-level state: the drag overlay and messages about dropped files. */
  ui: { dragging: boolean; dropNotice: string | null };
}

export const initialStatistics: StudioState['statistics'] = {
  running: false, phase: '', done: 0, total: 0, error: null, summary: null, site: { block: 0, kind: 'qkv-in' }, siteStats: null, siteError: null,
};

export const useStudio = create<StudioState>(() => ({
  engine: { status: 'starting', adapter: null, isSoftware: false, error: null },
  model: { loaded: null, loading: null, isDemo: false, error: null },
  data: { images: [], labelSource: '', unknown: [], warnings: [] },
  preprocessing: { preset: 'model', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 256 },
  evaluation: { running: false, done: 0, total: 0, result: null, error: null },
  statistics: initialStatistics,
  ui: { dragging: false, dropNotice: null },
}));

/** Replaces one slice partially: `patch('evaluation', { running: true })`. */
export function patch<K extends keyof StudioState>(key: K, value: Partial<StudioState[K]>): void {
  useStudio.setState((s) => ({ [key]: { ...(s[key] as object), ...(value as object) } }) as Partial<StudioState>);
}
