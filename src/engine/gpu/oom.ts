/**
 * Out-of-memory errors that say what a step needed, what the GPU gave, and a batch that fits:
 * "needs N MB, have M MB; try batch B". N is the step's planned bytes (model/memory.ts,
 * quant/memory-plan.ts), M what the pool could get before an allocation failed (or the device's
 * per-buffer limit), B the largest batch the same estimate fits into M. No GPU code.
 */
import { OutOfMemoryError } from '../errors.ts';
import type { AllocationFailure, OomDetails } from './buffer-pool.ts';

export type { OomDetails } from './buffer-pool.ts';

/** The numbers of an engine OutOfMemoryError (`details` on the error), or undefined. */
export function oomDetails(e: unknown): OomDetails | undefined {
  return e instanceof OutOfMemoryError ? (e as OutOfMemoryError & { details?: OomDetails }).details : undefined;
}

/** Decimal megabytes, as the message prints them (one decimal below 10 MB). */
export function formatMB(bytes: number): string {
  const mb = bytes / 1e6;
  return mb < 10 ? mb.toFixed(1) : mb.toFixed(0);
}

/**
 * The batch to suggest after `batch` failed: the largest below it whose planned bytes fit `have`; half of
 * it when the plan says `batch` itself fits (the plan underestimates this GPU: it gave less than planned).
 */
export function suggestBatch(batch: number, need: (b: number) => number, have: number): number {
  if (need(batch) <= have) return Math.floor(batch / 2);
  return largestFitting(batch - 1, (b) => need(b) <= have);
}

/** The largest b in 1..max with fits(b) (fits must be monotone: true up to some b, false after); 0 if none. */
export function largestFitting(max: number, fits: (b: number) => boolean): number {
  if (max < 1 || !fits(1)) return 0;
  let lo = 1, hi = Math.floor(max);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid; else hi = mid - 1;
  }
  return lo;
}

export interface OomAdvice {
  /** What ran out, e.g. "The GPU ran out of memory running 64 images at once". */
  what: string;
  needBytes: number;
  haveBytes: number;
  /** The batch that failed and the largest that fits by the same estimate (0: not even one). */
  batch: number;
  suggestedBatch: number;
  /** What "batch" means here when it is not the evaluation batch, e.g. "calibration images". */
  batchMeaning?: string;
  /** A sentence after the numbers. */
  hint?: string;
  kind?: 'allocation' | 'buffer-limit';
}

/** "…: needs N MB, have M MB; try batch B." as a typed error with its numbers in `details`. */
export function outOfMemory(a: OomAdvice): OutOfMemoryError {
  const nums = `needs ${formatMB(a.needBytes)} MB, have ${formatMB(a.haveBytes)} MB`;
  const meaning = a.batchMeaning ? ` (${a.batchMeaning})` : '';
  const advice = a.suggestedBatch >= 1
    ? `try batch ${a.suggestedBatch}${meaning}.`
    : `even batch 1${meaning} does not fit; close other GPU-heavy tabs or use a smaller model.`;
  const err = new OutOfMemoryError(`${a.what}: ${nums}; ${advice}${a.hint ? ` ${a.hint}` : ''}`);
  (err as OutOfMemoryError & { details?: OomDetails }).details = {
    kind: a.kind ?? 'allocation', needBytes: a.needBytes, haveBytes: a.haveBytes, batch: a.batch, suggestedBatch: a.suggestedBatch,
  };
  return err;
}

/** What the GPU gave before the first failed allocation of a step (or what the pool holds, when the scope named none). */
export function bytesObtained(failures: readonly AllocationFailure[], fallback: number): number {
  return failures.length ? Math.min(...failures.map((f) => f.allocatedBefore)) : fallback;
}

/**
 * The pool's per-buffer limit error, rewritten with a batch when the caller knows how the buffer scales:
 * a buffer of `size` bytes at `batch` images → the largest batch whose buffer stays under the limit.
 */
export function bufferLimitWithBatch(e: unknown, batch: number, what: string): OutOfMemoryError | undefined {
  const d = oomDetails(e);
  if (!d || d.kind !== 'buffer-limit' || d.batch !== null) return undefined;
  const perImage = d.needBytes / batch;
  return outOfMemory({
    what: `${what}: one buffer${d.label ? ` (${d.label})` : ''} exceeds this GPU's per-buffer limit`, kind: 'buffer-limit',
    needBytes: d.needBytes, haveBytes: d.haveBytes, batch, suggestedBatch: Math.min(batch - 1, Math.floor(d.haveBytes / perImage)),
  });
}
