/** One echarts instance per chart component: created on mount, resized with its box, disposed on unmount. */
import { useEffect, useRef } from 'react';
import { echarts, type EChartsOption } from './echarts.ts';

export function useEchart(option: EChartsOption) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    const el = ref.current!;
    chart.current = echarts.init(el);
    const ro = new ResizeObserver(() => chart.current?.resize());
    ro.observe(el);
    return () => { ro.disconnect(); chart.current?.dispose(); chart.current = null; };
  }, []);
  // notMerge: a new site or scale replaces the whole picture, no stale series or marks survive.
  useEffect(() => { chart.current?.setOption(option, { notMerge: true }); }, [option]);
  return ref;
}
