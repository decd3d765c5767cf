/**
 * Small multiples of the finished modules' loss curves (total and reconstruction, log axis), one
 * echarts grid per module in forward order, titled with the reconstruction error before → after.
 */
import { useMemo } from 'react';
import type { AsmoModuleReport } from '../../engine/asmo/settings.ts';
import { num } from '../quant-labels.ts';
import { LOSS_TERMS, termData } from './asmo-series.ts';
import { useEchart } from './use-echart.ts';

interface Props { modules: AsmoModuleReport[] }

/** Per module: a title band (name, rec. error) above a plot, with room for the x labels below. */
const COLS = 4, ROW = 124, TITLE = 34, PLOT = 66;
const SHOWN = LOSS_TERMS.filter((t) => t.key === 'total' || t.key === 'rec');

export const moduleGridHeight = (n: number) => Math.max(1, Math.ceil(n / COLS)) * ROW;

export function AsmoModuleGrid({ modules }: Props) {
  const option = useMemo(() => {
    const at = (i: number) => ({ col: i % COLS, row: Math.floor(i / COLS) });
    return {
      animation: false,
      title: modules.map((m, i) => ({
        text: m.name, subtext: `rec ${num(m.recBefore)} → ${num(m.recAfter)}`, left: `${at(i).col * 25 + 1}%`, top: at(i).row * ROW,
        textStyle: { fontSize: 11, fontWeight: 'normal' }, subtextStyle: { fontSize: 9 }, itemGap: 4,
      })),
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? num(v) : '—') },
      grid: modules.map((_, i) => ({ left: `${at(i).col * 25 + 4}%`, width: '19%', top: at(i).row * ROW + TITLE, height: PLOT })),
      xAxis: modules.map((m, i) => ({ type: 'value', gridIndex: i, min: 0, max: Math.max(1, m.iters), axisLabel: { fontSize: 8 }, splitLine: { show: false } })),
      yAxis: modules.map((_, i) => ({ type: 'log', gridIndex: i, axisLabel: { fontSize: 8, formatter: (v: number) => v.toExponential(0) } })),
      series: modules.flatMap((m, i) => SHOWN.map((t) => ({
        name: t.name, type: 'line', xAxisIndex: i, yAxisIndex: i, showSymbol: false, color: t.color,
        lineStyle: { width: 1 }, data: termData(m.curve, t.key, true),
      }))),
    };
  }, [modules]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart" style={{ height: moduleGridHeight(modules.length) }} data-testid="asmo-module-grid" data-modules={modules.length} />;
}
