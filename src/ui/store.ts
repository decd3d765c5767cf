/**
 * The studio's one zustand store: summaries only (no GPU handles, no engine objects), a slice per concern.
 * Actions live in actions.ts as plain functions; components read through small selectors.
 */
import { create } from 'zustand';
import type { EvalResult } from '../engine/eval/evaluate.ts';
import type { ErrorInfo, LoadedModel } from '../worker/protocol.ts';

export interface DataImage { name: string; label: number | null; bytes: Uint8Array }

export type PresetName = 'model' | 'imagenet' | 'half' | 'custom';

export interface StudioState {
  engine: { status: 'starting' | 'ready' | 'failed'; adapter: string | null; isSoftware: boolean; error: ErrorInfo | null };
  model: { loaded: LoadedModel | null; loading: string | null; isDemo: boolean; error: ErrorInfo | null };
  data: { images: DataImage[]; labelSource: string; skippedOnLoad: string[]; warnings: string[] };
  preprocessing: { preset: PresetName; mean: number[]; std: number[]; resize: number };
  evaluation: { running: boolean; done: number; total: number; result: EvalResult | null; error: ErrorInfo | null };
  notices: string[];
}

export const useStudio = create<StudioState>(() => ({
  engine: { status: 'starting', adapter: null, isSoftware: false, error: null },
  model: { loaded: null, loading: null, isDemo: false, error: null },
  data: { images: [], labelSource: '', skippedOnLoad: [], warnings: [] },
  preprocessing: { preset: 'model', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 256 },
  evaluation: { running: false, done: 0, total: 0, result: null, error: null },
  notices: [],
}));

/** Replaces one slice partially: `patch('evaluation', { running: true })`. */
export function patch<K extends keyof StudioState>(key: K, value: Partial<StudioState[K]>): void {
  useStudio.setState((s) => ({ [key]: { ...(s[key] as object), ...(value as object) } }) as Partial<StudioState>);
}
