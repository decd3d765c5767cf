/**
 * The deterministic case list and the run of one case. Case `index` of run seed S always applies the same
 * mutation kind to the same seed model with the same random choices, so `--seed S --only index`
 * reproduces any failure. Kinds and seeds go round-robin, so every (kind, seed) pair gets its share.
 * Indices from SWEEP_BASE on are the exhaustive truncation sweep instead (`--sweep`).
 */
import { AdfqError } from '../../src/engine/errors';
import { importVitOrExport } from '../../src/engine/onnx/import-vit';
import { BYTE_MUTATORS, sweepCut, sweepPoints, type Mutation, type Mutator, type Seed } from './mutate-bytes';
import { GRAPH_MUTATORS } from './mutate-graph';
import { checkImported } from './oracle';
import { TENSOR_MUTATORS } from './mutate-tensors';
import { Rng } from './rng';

export const MUTATORS: Record<string, Mutator> = { ...BYTE_MUTATORS, ...TENSOR_MUTATORS, ...GRAPH_MUTATORS };
export const KINDS = Object.keys(MUTATORS);

/**
 * 'inconsistent': imported, but into a model that does not fit together (oracle.ts), a bug too;
 * 'mutator': the fuzzer itself failed to build the case (a fuzzer bug, counted apart).
 */
export type Outcome = 'ok' | 'typed' | 'untyped' | 'inconsistent' | 'hang' | 'crash' | 'mutator';

export interface CaseResult {
  index: number; kind: string; seed: string; what: string; outcome: Outcome;
  /** The AdfqError code (typed) or the error's name (untyped, crash). */
  code?: string; message?: string; stack?: string;
  /** Import time, and growth of the worker's heap + ArrayBuffer memory across the case (MiB). */
  ms?: number; memMiB?: number;
}

/** Case indices from here on are the truncation sweep (every boundary of every seed, raw and clean cut). */
export const SWEEP_BASE = 1_000_000_000;
const sweepSizes = new WeakMap<Seed, number>();
const sweepSize = (seed: Seed) => sweepSizes.get(seed) ?? (sweepSizes.set(seed, 2 * sweepPoints(seed).length), sweepSizes.get(seed)!);

/** The number of sweep cases of these seeds: `SWEEP_BASE + k` for k below it. */
export function sweepCount(seeds: Seed[]): number {
  return seeds.reduce((n, s) => n + sweepSize(s), 0);
}

/** What case `index` is: its kind, its seed and how to build it. */
export function caseOf(index: number, seeds: Seed[]): { kind: string; seed: Seed; build: (runSeed: number) => Mutation } {
  if (index < SWEEP_BASE) {
    const kind = KINDS[index % KINDS.length], seed = seeds[Math.floor(index / KINDS.length) % seeds.length];
    return { kind, seed, build: (runSeed) => MUTATORS[kind](seed, new Rng(runSeed, index)) };
  }
  let k = index - SWEEP_BASE;
  for (const seed of seeds) {
    if (k < sweepSize(seed)) { const at = k; return { kind: 'sweep', seed, build: () => sweepCut(seed, at) }; }
    k -= sweepSize(seed);
  }
  throw new RangeError(`No sweep case ${index}.`);
}

const memory = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

/** Builds case `index` and imports it, in this thread; `onImport` is called between the two. */
export function runCase(runSeed: number, index: number, seeds: Seed[], onImport?: () => void): CaseResult {
  const { kind, seed, build } = caseOf(index, seeds);
  const base = { index, kind, seed: seed.name };
  let bytes: Uint8Array, what: string;
  try {
    ({ bytes, what } = build(runSeed));
  } catch (e) {
    return { ...base, what: '', outcome: 'mutator', code: (e as Error)?.name, message: String((e as Error)?.message ?? e), stack: (e as Error)?.stack };
  }
  onImport?.();
  const mem0 = memory(), t0 = performance.now();
  let outcome: Outcome = 'ok', error: unknown = null, problem: string | null = null;
  try {
    problem = checkImported(importVitOrExport(bytes, { onWarning: () => {} }));
    if (problem) outcome = 'inconsistent';
  } catch (e) {
    error = e;
    outcome = e instanceof AdfqError ? 'typed' : 'untyped';
  }
  const ms = performance.now() - t0, memMiB = Math.max(0, memory() - mem0) / 2 ** 20;
  if (!error) return { ...base, what, outcome, ms, memMiB, ...(problem ? { code: 'oracle', message: problem } : {}) };
  const e = error as Error;
  const code = error instanceof AdfqError ? error.code : e?.name ?? typeof error;
  return { ...base, what, outcome, code, message: String(e?.message ?? error).slice(0, 500), stack: outcome === 'untyped' ? e?.stack : undefined, ms, memMiB };
}
