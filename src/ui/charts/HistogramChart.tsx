/**
 * A histogram of one site's values as a step line over [lo, hi], with vertical marks (min, max,
 * percentiles, PPOQ's ±τ) and, optionally, a quantizer's output levels as thin solid lines. Log scale
 * plots counts on a log axis; empty bins are left out there (log 0 is -∞).
 */
import { useMemo } from 'react';
import { useEchart } from './use-echart.ts';

export interface HistogramMark { label: string; value: number; color?: string }

interface Props {
  lo: number; hi: number; counts: number[]; logScale: boolean; marks: HistogramMark[];
  /** Quantizer output levels inside [lo, hi]; faint when they are many tokens' grids at once. */
  levels?: number[]; levelsFaint?: boolean;
}

const LEVEL_COLOR = '#e8590c';
const NO_LEVELS: number[] = [];

export function HistogramChart({ lo, hi, counts, logScale, marks, levels = NO_LEVELS, levelsFaint = false }: Props) {
  const option = useMemo(() => {
    const w = (hi - lo) / counts.length;
    const data = counts.map((c, i) => [lo + i * w, logScale && c === 0 ? null : c]);
    data.push([hi, null]);
    return {
      animation: false,
      grid: { left: 56, right: 16, top: 28, bottom: 48 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'value', min: lo, max: hi, name: 'value', nameLocation: 'middle', nameGap: 28,
        axisLabel: { formatter: (v: number) => String(+v.toPrecision(4)) } },
      yAxis: logScale ? { type: 'log', min: 1, name: 'count (log)' } : { type: 'value', name: 'count' },
      dataZoom: [{ type: 'inside' }],
      series: [{
        type: 'line', step: 'start', symbol: 'none', data, lineStyle: { width: 1 }, areaStyle: { opacity: 0.35 },
        markLine: {
          symbol: 'none', animation: false, silent: true,
          label: { formatter: '{b}', position: 'insideEndTop', fontSize: 10 },
          data: [
            ...levels.map((v) => ({ name: '', xAxis: v, label: { show: false },
              lineStyle: { color: LEVEL_COLOR, type: 'solid', width: 1, opacity: levelsFaint ? 0.15 : 0.6 } })),
            ...marks.map((m) => ({ name: m.label, xAxis: m.value, ...(m.color ? { lineStyle: { color: m.color, width: 1.5 } } : {}) })),
          ],
        },
      }],
    };
  }, [lo, hi, counts, logScale, marks, levels, levelsFaint]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart" data-testid="histogram-chart" />;
}
