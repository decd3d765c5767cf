/**
 * Host-side schedules of ASMO (ADFQ §5.3, §5.4), as the released code (BRECQ's LossFunction and
 * LinearTempDecay, torch's CosineAnnealingLR) steps them. `step` counts optimiser steps from 0.
 */

/**
 * Learning rate of step `step` of `iters` (CosineAnnealingLR, T_max = iters, eta_min = 0, stepped after
 * each optimiser step): lr·(1 + cos(π·step/iters))/2, lr at step 0, reaching 0 only after the last step.
 */
export function cosineLr(step: number, iters: number, lr: number): number {
  return lr * 0.5 * (1 + Math.cos((Math.PI * step) / iters));
}

export interface RoundRegOptions {
  /** λ, 0.01. */
  weight?: number;
  /** Share of the steps without the regulariser, 0.2. */
  warmup?: number;
  /** β from `betaStart` (20) to `betaEnd` (2). */
  betaStart?: number;
  betaEnd?: number;
}
export const ROUND_REG_DEFAULTS = { weight: 0.01, warmup: 0.2, betaStart: 20, betaEnd: 2 } as const;

/**
 * The rounding regulariser's coefficient and exponent at step `step` of `iters`. The released code counts
 * t = step + 1 (its counter is bumped before use): the term is off (coef 0) while t < warmup·iters; β stays
 * at betaStart until then and decays linearly to betaEnd at t = iters (the last step).
 */
export function roundRegSchedule(step: number, iters: number, o: RoundRegOptions = {}): { coef: number; beta: number } {
  const { weight, warmup, betaStart, betaEnd } = { ...ROUND_REG_DEFAULTS, ...o };
  const t = step + 1, start = warmup * iters;
  const beta = t < start ? betaStart : betaEnd + (betaStart - betaEnd) * Math.max(0, 1 - (t - start) / (iters - start));
  return { coef: t < start ? 0 : weight, beta };
}
