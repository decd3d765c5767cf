/** One echarts instance per chart component: created on mount, resized with its box, disposed on unmount. */
import { useEffect, useRef } from 'react';
import { echarts, type EChartsOption } from './echarts.ts';

/** What a click on a series item reports: its series, category and data item. */
export interface ChartClick { seriesName?: string; name?: string; data?: unknown }

export function useEchart(option: EChartsOption, onClick?: (p: ChartClick) => void) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  // The latest handler, so a new closure each render needs no re-binding.
  const click = useRef(onClick);
  click.current = onClick;
  useEffect(() => {
    const el = ref.current!;
    const c = (chart.current = echarts.init(el));
    c.on('click', (p) => click.current?.(p as ChartClick));
    const ro = new ResizeObserver(() => chart.current?.resize());
    ro.observe(el);
    return () => { ro.disconnect(); chart.current?.dispose(); chart.current = null; };
  }, []);
  // notMerge: a new site or scale replaces the whole picture, no stale series or marks survive.
  useEffect(() => { chart.current?.setOption(option, { notMerge: true }); }, [option]);
  return ref;
}
