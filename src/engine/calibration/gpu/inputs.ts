/**
 * Shared by the GPU searches: the tensor list, torch.quantile's ranks and interpolation from two order
 * statistics (the same arithmetic as torch-quantile.ts), the PPOQ threshold as the shaders compare it,
 * and the read-back used when a degenerate candidate makes the CPU twin the only exact answer.
 */
import { UsageError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { numel, readTensor, type GpuTensor } from '../../gpu/tensor.ts';
import { f32 } from '../f32.ts';
import { lowerLevel, torchQuantile } from '../torch-quantile.ts';

export type Tensors = GpuTensor | readonly GpuTensor[];

export function tensorList(xs: Tensors): readonly GpuTensor[] {
  return Array.isArray(xs) ? xs : [xs as GpuTensor];
}

export const totalCount = (list: readonly GpuTensor[]): number => list.reduce((s, x) => s + numel(x.shape), 0);

/** Throws torchQuantile's UsageError for a p outside [0, 1] (and 1 − p), before any GPU work. */
export function checkPs(ps: readonly number[]): void {
  if (ps.length === 0) throw new UsageError('percentile-MSE: give at least one percentile.');
  for (const p of ps) { torchQuantile([0], p); torchQuantile([0], lowerLevel(p)); }
}

/** The ranks torchQuantile(sorted, p) reads among n values (rank = f32(f32(p)·f32(n − 1)), floor and ceil). */
export function torchRanks(n: number, p: number): [number, number] {
  const rank = f32(f32(p) * f32(n - 1));
  return [Math.floor(rank), Math.ceil(rank)];
}

/** Every in-range rank the quantiles p and 1 − p of all ps need, deduplicated, ascending. */
export function percentileRanks(n: number, ps: readonly number[], extra: readonly number[] = []): number[] {
  const set = new Set<number>(extra);
  for (const p of ps) for (const q of [p, lowerLevel(p)]) for (const k of torchRanks(n, q)) if (k < n) set.add(k);
  return [...set].sort((a, b) => a - b);
}

/**
 * torchQuantile of n sorted values from the order statistics it reads: a sparse array-like holding only
 * those ranks (a rank ≥ n stays missing, as sorted[n] is undefined for the CPU).
 */
export function torchQuantileFrom(n: number, p: number, valueAt: (rank: number) => number): number {
  const sparse: { length: number; [k: number]: number } = { length: n };
  for (const k of torchRanks(n, p)) if (k < n) sparse[k] = valueAt(k);
  return torchQuantile(sparse, p);
}

/**
 * |x| > f32(τ) as the shaders test it: i32(bits(|x|)) > tauBits. τ < 0 makes every value an outlier
 * (−1), NaN or undefined none (+inf's bits), −0 the same as +0.
 */
export function tauBits(tau?: number): number {
  if (tau === undefined || Number.isNaN(tau)) return 0x7f800000;
  const t = f32(tau);
  if (t < 0) return -1;
  return t === 0 ? 0 : new Uint32Array(new Float32Array([t]).buffer)[0];
}

/** All values of the tensors, concatenated (for the CPU twin when a candidate is degenerate). */
export async function readAll(ctx: GpuContext, list: readonly GpuTensor[]): Promise<Float32Array> {
  const out = new Float32Array(totalCount(list));
  let at = 0;
  for (const x of list) { const v = await readTensor(ctx, x); out.set(v, at); at += v.length; }
  return out;
}

/** The first strictly smallest mse (a NaN never wins), as percentile-mse.ts picks. */
export function firstBest<T extends { mse: number }>(candidates: T[]): T {
  let best = candidates[0];
  for (const c of candidates) if (c.mse < best.mse) best = c;
  return best;
}
