/** A rows × cols heatmap of non-negative magnitudes (row-major values), rows top to bottom. */
import { useMemo } from 'react';
import { useEchart } from './use-echart.ts';

interface Props { rowLabels: string[]; colLabels: string[]; values: number[]; xName: string; testId: string }

export function HeatmapChart({ rowLabels, colLabels, values, xName, testId }: Props) {
  const option = useMemo(() => {
    const cols = colLabels.length;
    const data = values.map((v, i) => [i % cols, Math.floor(i / cols), v]);
    const max = values.reduce((m, v) => (v > m ? v : m), 0);
    return {
      animation: false,
      grid: { left: 64, right: 80, top: 8, bottom: 48 },
      tooltip: { position: 'top' },
      xAxis: { type: 'category', data: colLabels, name: xName, nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'category', data: rowLabels, inverse: true, name: 'token', nameLocation: 'middle', nameGap: 44 },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: 'vertical', right: 0, top: 'center', itemHeight: 120,
        inRange: { color: ['#f7fbff', '#6baed6', '#08306b', '#e31a1c'] } },
      series: [{ type: 'heatmap', data, progressive: 20000 }],
    };
  }, [rowLabels, colLabels, values, xName]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart tall" data-testid={testId} />;
}
