/** The loss terms of an ASMO curve as chart series: the same names and colours in every ASMO chart. */
import type { AsmoLossPoint } from '../../engine/asmo/settings.ts';

export type LossTerm = 'total' | 'rec' | 'round' | 'attn';

export const LOSS_TERMS: { key: LossTerm; name: string; color: string }[] = [
  { key: 'total', name: 'total', color: '#1d2330' },
  { key: 'rec', name: 'reconstruction', color: '#2c5aa0' },
  { key: 'round', name: 'rounding', color: '#e8590c' },
  { key: 'attn', name: 'attention KL', color: '#2b8a3e' },
];

/** [step, value] pairs; on a log axis a zero (rounding during warm-up, attention outside attention modules) is a gap. */
export function termData(points: AsmoLossPoint[], key: LossTerm, log: boolean): [number, number | null][] {
  return points.map((p) => [p.step, log && !(p[key] > 0) ? null : p[key]]);
}
