/**
 * AdaRound's choices per module: the share of weights rounded up (floor + 1) and the share that differ
 * from nearest rounding, for each finished module and, while it runs, the current one (soft so far).
 */
import { useMemo } from 'react';
import type { RoundingShare } from '../../engine/asmo/settings.ts';
import { useEchart } from './use-echart.ts';

export interface RoundingBar { name: string; share: RoundingShare; live?: boolean }

const pct = (v: number) => +(100 * v).toFixed(2);

export function AsmoRoundingChart({ bars }: { bars: RoundingBar[] }) {
  const option = useMemo(() => ({
    animation: false,
    grid: { left: 48, right: 16, top: 32, bottom: 64 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => `${v}%` },
    xAxis: { type: 'category', data: bars.map((b) => (b.live ? `${b.name} (so far)` : b.name)), axisLabel: { rotate: 30, fontSize: 10 } },
    yAxis: { type: 'value', name: '% of weights', min: 0, max: 100 },
    series: [
      { name: 'rounded up', type: 'bar', barMaxWidth: 14, color: '#2c5aa0', data: bars.map((b) => pct(b.share.up)) },
      { name: 'changed from nearest', type: 'bar', barMaxWidth: 14, color: '#e8590c', data: bars.map((b) => pct(b.share.changed)) },
    ],
  }), [bars]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart" data-testid="asmo-rounding-chart" data-modules={bars.length} />;
}
