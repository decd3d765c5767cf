/**
 * The loss curve of the module being optimised (or the last one): reconstruction, rounding and
 * attention terms and their sum against the step, on a log axis by default. `data-points` says how many
 * steps are drawn, so a test can watch it grow.
 */
import { useMemo } from 'react';
import type { AsmoLossPoint } from '../../engine/asmo/settings.ts';
import { num } from '../quant-labels.ts';
import { LOSS_TERMS, termData } from './asmo-series.ts';
import { useEchart } from './use-echart.ts';

interface Props { points: AsmoLossPoint[]; iters: number; log: boolean }

export function AsmoLossChart({ points, iters, log }: Props) {
  const option = useMemo(() => ({
    animation: false,
    grid: { left: 64, right: 16, top: 32, bottom: 40 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? num(v) : '—') },
    xAxis: { type: 'value', min: 0, max: Math.max(1, iters), name: 'step', nameLocation: 'middle', nameGap: 26 },
    yAxis: log ? { type: 'log', name: 'loss (log)' } : { type: 'value', name: 'loss' },
    series: LOSS_TERMS.map((t) => ({
      name: t.name, type: 'line', showSymbol: false, connectNulls: false, color: t.color,
      lineStyle: { width: t.key === 'total' ? 2 : 1 }, data: termData(points, t.key, log),
    })),
  }), [points, iters, log]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart" data-testid="asmo-loss-chart" data-points={points.length} />;
}
