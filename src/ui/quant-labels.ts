/** Short names for quantization runs and sites, shared by the panel, the table, the chart and the explorer. */
import type { AsmoModuleKind, AsmoSettings } from '../engine/asmo/settings.ts';
import type { ActQuant } from '../engine/quant/params.ts';
import type { Method, QuantizeSettings } from '../engine/quant/quantize.ts';

const SHORT: Record<Method, string> = { adfq: 'ADFQ', minmax: 'MinMax', percentile: 'Percentile-MSE' };

/** 'ADFQ', 'ADFQ −PPOQ −SLQ', 'MinMax', 'ADFQ + ASMO (3000 steps)', 'ADFQ + ASMO (40 steps, MLP, KL over keys)', … */
export function runLabel(s: QuantizeSettings): string {
  if (s.method !== 'adfq') return SHORT[s.method];
  const a = s.ablation, off = [a.ppoqQkv || a.ppoqFc1 ? '−PPOQ' : '', a.slq ? '−SLQ' : '', a.logProbs ? '−log√2' : ''].filter(Boolean);
  const base = [SHORT.adfq, ...off].join(' ');
  return s.asmo ? `${base} + ASMO (${asmoDetails(s.asmo)})` : base;
}

export const ASMO_MODULE_LABELS: Record<AsmoModuleKind, string> = { patch: 'patch embedding', attention: 'attention', mlp: 'MLP', head: 'head' };
const SHORT_MODULES: Record<AsmoModuleKind, string> = { patch: 'patch', attention: 'attention', mlp: 'MLP', head: 'head' };

/** Steps, then only what differs from the released code's choices: modules left out, gradient mode, KL axis. */
function asmoDetails(a: AsmoSettings): string {
  const kinds = (Object.keys(a.modules) as AsmoModuleKind[]).filter((k) => a.modules[k]);
  return [`${a.iters} steps`, kinds.length < 4 ? kinds.map((k) => SHORT_MODULES[k]).join(' + ') : '',
    a.gradients === 'ste-lsq' ? 'STE/LSQ' : '', a.klAxis === 'keys' ? 'KL over keys' : ''].filter(Boolean).join(', ');
}

export const bitsLabel = (s: { bitsW: number; bitsA: number }) => `W${s.bitsW}A${s.bitsA}`;

export const QUANTIZER_LABELS: Record<ActQuant['kind'], string> = {
  uniform: 'uniform per tensor', ppoq: 'PPOQ (per token, outliers in FP32)', log: 'log', slq: 'SLQ (shifted log)',
};

export const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** A compact number: 3 decimals, or exponent form for very large or small magnitudes. */
export const num = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(2) : v.toFixed(3));
