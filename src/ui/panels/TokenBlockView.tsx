/**
 * Views over every block for the chosen tensor kind, from the summary alone: max |x| per token and
 * block (outlier patches and the cls token stand out), and the fraction of values above each threshold.
 */
import { useMemo } from 'react';
import type { SiteKind, StatsSummary } from '../../engine/stats/types.ts';
import { HeatmapChart } from '../charts/HeatmapChart.tsx';
import { useStudio } from '../store.ts';
import { tokenLabels } from './token-labels.ts';

const pct = (v: number) => (v === 0 ? '0' : v < 1e-4 ? `${(100 * v).toExponential(1)}%` : `${(100 * v).toFixed(3)}%`);

export function TokenBlockView({ summary, kind }: { summary: StatsSummary; kind: SiteKind }) {
  const prefix = useStudio((s) => s.model.loaded?.summary.prefixTokens ?? 1);
  const sites = useMemo(() => summary.sites.filter((s) => s.kind === kind).sort((a, b) => a.block - b.block), [summary, kind]);
  const heat = useMemo(() => {
    const tokens = sites[0]?.tokenMax.length ?? 0;
    const values: number[] = [];
    // max |x| from the min and max, so large negative outliers count as much as positive ones.
    for (let t = 0; t < tokens; t++) for (const s of sites) values.push(Math.max(Math.abs(s.tokenMin[t]), Math.abs(s.tokenMax[t])));
    return { rows: tokenLabels(tokens, prefix), cols: sites.map((s) => String(s.block)), values };
  }, [sites, prefix]);
  const thresholds = summary.settings.thresholds;
  return (
    <div data-testid="token-block-view">
      <h3>max |x| per token and block</h3>
      <HeatmapChart rowLabels={heat.rows} colLabels={heat.cols} values={heat.values} xName="block" testId="token-block-heatmap" />
      <h3>Fraction of values with |x| above a threshold</h3>
      <table className="preds" data-testid="threshold-table"><thead><tr><th>block</th>{thresholds.map((t) => <th key={t}>|x| &gt; {t}</th>)}<th>max |x|</th></tr></thead>
        <tbody>{sites.map((s) => (
          <tr key={s.block}><td>{s.block}</td>{s.above.map((n, j) => <td key={j}>{pct(n / s.count)}</td>)}<td>{Math.max(-s.min, s.max).toFixed(2)}</td></tr>
        ))}</tbody></table>
    </div>
  );
}
