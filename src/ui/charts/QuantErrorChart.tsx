/**
 * Per-site quantization error of one run: SQNR in dB as bars grouped by block (the model input and the
 * head input at the ends), a series per site kind; the tooltip adds MSE and PPOQ's outlier share. A
 * lossless site (infinite SQNR) has no bar and says so in its tooltip.
 */
import { useMemo } from 'react';
import type { SiteQuantReport } from '../../engine/quant/quantize.ts';
import { QUANT_BLOCK_SITES, siteName, type QuantSiteId } from '../../engine/quant/sites.ts';
import { QUANTIZER_LABELS, num } from '../quant-labels.ts';
import { useEchart, type ChartClick } from './use-echart.ts';

interface Props { sites: SiteQuantReport[]; depth: number; onPick?: (site: QuantSiteId) => void }

const MODEL_SERIES = 'model input / head input';

interface Item { value: number | null; report: SiteQuantReport }

function tooltip(p: { data?: Item }): string {
  const r = p.data?.report;
  if (!r) return '';
  return [`<b>${siteName(r.site)}</b>`, QUANTIZER_LABELS[r.quantizer],
    `SQNR ${Number.isFinite(r.sqnrDb) ? `${r.sqnrDb.toFixed(2)} dB` : 'lossless'}`, `MSE ${num(r.mse)}`,
    ...(r.outlierFraction !== null ? [`above τ (FP32): ${(100 * r.outlierFraction).toFixed(3)}%`] : [])].join('<br/>');
}

export function QuantErrorChart({ sites, depth, onPick }: Props) {
  const option = useMemo(() => {
    const cats = ['input', ...Array.from({ length: depth }, (_, b) => `block ${b}`), 'head'];
    const col = (s: QuantSiteId) => (s.block !== null ? s.block + 1 : s.kind === 'patch-in' ? 0 : depth + 1);
    const names = [...QUANT_BLOCK_SITES, MODEL_SERIES];
    const series = names.map((name) => ({ name, type: 'bar', barMaxWidth: 14, data: cats.map((): Item | null => null) }));
    for (const r of sites) {
      const k = r.site.block === null ? names.length - 1 : names.indexOf(r.site.kind);
      series[k].data[col(r.site)] = { value: Number.isFinite(r.sqnrDb) ? r.sqnrDb : null, report: r };
    }
    return {
      animation: false,
      grid: { left: 56, right: 16, top: 56, bottom: 40 },
      legend: { type: 'scroll', top: 0 },
      tooltip: { trigger: 'item', formatter: tooltip },
      xAxis: { type: 'category', data: cats },
      yAxis: { type: 'value', name: 'SQNR (dB)', nameLocation: 'middle', nameGap: 40 },
      series,
    };
  }, [sites, depth]);
  const ref = useEchart(option, (p: ChartClick) => {
    const r = (p.data as Item | undefined)?.report;
    if (r) onPick?.(r.site);
  });
  return <div ref={ref} className="chart tall" data-testid="quant-error-chart" data-sites={sites.length} />;
}
