/**
 * One site's statistics: histogram with marks, per-channel ranges, tokens × channels heatmap. With a
 * quantization run selected, the histogram also shows the site's quantizer levels (level-overlay.ts).
 */
import { useMemo, useState } from 'react';
import type { SiteStats } from '../../engine/stats/types.ts';
import { ChannelRangeChart } from '../charts/ChannelRangeChart.tsx';
import { HeatmapChart } from '../charts/HeatmapChart.tsx';
import { HistogramChart, type HistogramMark } from '../charts/HistogramChart.tsx';
import { useStudio } from '../store.ts';
import { levelOverlay } from './level-overlay.ts';
import { QuantSiteInfo } from './QuantSiteInfo.tsx';
import { tokenLabels } from './token-labels.ts';

const fmt = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(2) : v.toFixed(3));
const pctLabel = (p: number) => `p${+(100 * p).toPrecision(3)}`;

export function SiteView({ stats }: { stats: SiteStats }) {
  const [logScale, setLog] = useState(true);
  const [sorted, setSorted] = useState(true);
  const prefix = useStudio((s) => s.model.loaded?.summary.prefixTokens ?? 1);
  const run = useStudio((s) => s.quantization.runs.find((r) => r.id === s.quantization.selected) ?? null);
  const levelToken = useStudio((s) => s.quantization.levelToken);
  const h = stats.histogram;
  const overlay = useMemo(() => (run ? levelOverlay(run, stats, h.lo, h.hi, levelToken) : null), [run, stats, h, levelToken]);
  const tau = overlay?.quantizer.kind === 'ppoq' ? overlay.quantizer.tau : null;
  const marks = useMemo((): HistogramMark[] => [
    { label: 'min', value: stats.min }, { label: 'max', value: stats.max },
    ...stats.percentiles.map((p) => ({ label: pctLabel(p.p), value: p.value })),
    ...(tau === null ? [] : [{ label: '−τ', value: -tau, color: '#c92a2a' }, { label: '+τ', value: tau, color: '#c92a2a' }]
      .filter((m) => m.value >= h.lo && m.value <= h.hi)),
  ], [stats, tau, h]);
  const rows = useMemo(() => tokenLabels(stats.tokens, prefix), [stats.tokens, prefix]);
  const cols = useMemo(() => Array.from({ length: stats.channels }, (_, c) => String(c)), [stats.channels]);
  return (
    <div data-testid="site-view">
      <p className="stats-line" data-testid="site-range">
        {stats.count.toLocaleString('en-US')} values · min {fmt(stats.min)} · max {fmt(stats.max)}
        {stats.percentiles.map((p) => ` · ${pctLabel(p.p)} ${fmt(p.value)}`).join('')}
        {stats.nans > 0 && <span className="warn"> · {stats.nans} NaN</span>}
      </p>
      <h3>Histogram <label className="toggle"><input type="checkbox" checked={logScale} onChange={(e) => setLog(e.target.checked)} data-testid="log-scale" /> log count</label></h3>
      {run && <QuantSiteInfo run={run} overlay={overlay} tokenLabels={overlay?.quantizer.kind === 'ppoq' ? tokenLabels(overlay.quantizer.delta.length, prefix) : []} />}
      {/* One wrapper either way, so selecting a run does not re-create the chart; it marks the overlay for tests. */}
      <div {...(overlay ? { 'data-testid': 'level-overlay', 'data-levels': overlay.count, 'data-drawn': overlay.drawn.length, 'data-kind': overlay.quantizer.kind } : {})}>
        <HistogramChart lo={h.lo} hi={h.hi} counts={h.counts} logScale={logScale} marks={marks} levels={overlay?.drawn} levelsFaint={overlay?.token === 'all'} />
      </div>
      <p className="muted">{h.counts.length} bins over [{fmt(h.lo)}, {fmt(h.hi)}]; {h.under} below, {h.over} above the range.</p>
      {/* The exact counts for tests and for copying out; the chart only draws them. */}
      <pre hidden data-testid="hist-counts">{JSON.stringify({ block: stats.block, kind: stats.kind, lo: h.lo, hi: h.hi, counts: h.counts, under: h.under, over: h.over, count: stats.count, tokens: stats.tokens, channels: stats.channels })}</pre>
      <h3>Per-channel range <label className="toggle"><input type="checkbox" checked={sorted} onChange={(e) => setSorted(e.target.checked)} data-testid="sort-channels" /> widest first</label></h3>
      <ChannelRangeChart min={stats.channelMin} max={stats.channelMax} sorted={sorted} />
      <h3>max |x| per token and channel</h3>
      <HeatmapChart rowLabels={rows} colLabels={cols} values={stats.tokenChannelAbsMax} xName="channel" testId="token-channel-heatmap" />
    </div>
  );
}
