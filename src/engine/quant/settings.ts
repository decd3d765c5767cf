/**
 * Quantization settings, the methods and their labels: plain data with no GPU code, so the page can import
 * them without pulling the calibration kernels into its bundle (quantize.ts re-exports them).
 */
import { UsageError } from '../errors.ts';
import { checkAsmoSettings, type AsmoSettings } from '../asmo/settings.ts';
import { DEFAULT_TAU_FC1, DEFAULT_TAU_QKV, type Ablation } from './params.ts';

export const METHODS = ['adfq', 'minmax', 'percentile'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method, string> = {
  adfq: 'ADFQ quantizers (PPOQ, SLQ, log√2)',
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
  /** adfq only: module-wise optimisation after calibration (ADFQ.md §5); null or absent = calibration only. */
  asmo?: AsmoSettings | null;
}

export const DEFAULT_QUANTIZE_SETTINGS: QuantizeSettings = {
  method: 'adfq', bitsW: 4, bitsA: 4, ablation: {}, tauQkv: DEFAULT_TAU_QKV, tauFc1: DEFAULT_TAU_FC1,
};

export function checkSettings(s: QuantizeSettings): void {
  for (const [name, b] of [['weight', s.bitsW], ['activation', s.bitsA]] as const) {
    if (!(Number.isInteger(b) && b >= 2 && b <= 8)) throw new UsageError(`The ${name} bit width must be an integer from 2 to 8, not ${b}.`);
  }
  if (!METHODS.includes(s.method)) throw new UsageError(`Unknown method '${s.method}' (use ${METHODS.join(', ')}).`);
  for (const [name, t] of [['qkv', s.tauQkv], ['fc1', s.tauFc1]] as const) {
    if (!(Number.isFinite(t) && t > 0)) throw new UsageError(`The PPOQ threshold τ for the ${name} input must be a positive number, not ${t}.`);
  }
  if (s.asmo) {
    if (s.method !== 'adfq') throw new UsageError(`Module-wise optimisation (ASMO) applies to the adfq method, not ${s.method}.`);
    checkAsmoSettings(s.asmo);
  }
}
