/** Accuracy so far: top-1 of the partly optimised model on the held-out images, measured after each block. */
import { useMemo } from 'react';
import type { AsmoAccuracyPoint } from '../../engine/asmo/settings.ts';
import { useEchart } from './use-echart.ts';

export function AsmoAccuracyChart({ points }: { points: AsmoAccuracyPoint[] }) {
  const option = useMemo(() => ({
    animation: false,
    grid: { left: 48, right: 16, top: 32, bottom: 64 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps: { dataIndex: number }[]) => {
        const p = points[ps[0]?.dataIndex ?? -1];
        return p ? `${p.label}<br/>top-1 ${(100 * p.top1).toFixed(2)}% on ${p.images} held-out image(s)` : '';
      },
    },
    xAxis: { type: 'category', data: points.map((p) => p.label), axisLabel: { rotate: 30, fontSize: 10 } },
    yAxis: { type: 'value', name: 'top-1 (%)', min: 0, max: 100 },
    series: [{ name: 'top-1', type: 'line', color: '#2b8a3e', data: points.map((p) => +(100 * p.top1).toFixed(2)) }],
  }), [points]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart" data-testid="asmo-accuracy-chart" data-points={points.length} />;
}
