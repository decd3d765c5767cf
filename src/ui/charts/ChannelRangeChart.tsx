/**
 * Per-channel [min, max] as candlestick bodies (open = min, close = max), one per channel, either in
 * channel order or sorted by range, so a few wide outlier channels stand out from the rest.
 */
import { useMemo } from 'react';
import { useEchart } from './use-echart.ts';

interface Props { min: number[]; max: number[]; sorted: boolean }

export function ChannelRangeChart({ min, max, sorted }: Props) {
  const option = useMemo(() => {
    const order = min.map((_, c) => c);
    if (sorted) order.sort((a, b) => (max[b] - min[b]) - (max[a] - min[a]));
    return {
      animation: false,
      grid: { left: 56, right: 16, top: 16, bottom: 48 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: order.map(String), name: sorted ? 'channel (widest first)' : 'channel', nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'value', scale: true },
      dataZoom: [{ type: 'inside' }],
      series: [{
        type: 'candlestick', data: order.map((c) => [min[c], max[c], min[c], max[c]]),
        itemStyle: { color: '#4a7bd0', color0: '#4a7bd0', borderColor: '#2c5aa0', borderColor0: '#2c5aa0' },
      }],
    };
  }, [min, max, sorted]);
  const ref = useEchart(option);
  return <div ref={ref} className="chart" data-testid="channel-chart" />;
}
