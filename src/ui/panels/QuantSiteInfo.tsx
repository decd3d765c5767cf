/** The selected run's quantizer at the explorer's site: kind, Δ/z (or per-token range), error, PPOQ token. */
import type { ActQuant } from '../../engine/quant/params.ts';
import { QUANTIZER_LABELS, bitsLabel, num } from '../quant-labels.ts';
import { setLevelToken } from '../quantize-actions.ts';
import type { QuantRun } from '../store.ts';
import type { LevelOverlay } from './level-overlay.ts';

function parameters(q: ActQuant, token: number | 'all' | null): string {
  switch (q.kind) {
    case 'uniform': return `Δ ${num(q.delta)} · z ${q.zero}`;
    case 'log': return `largest level Δ ${num(q.delta)} · base ${q.base === 'sqrt2' ? '√2' : '2'}`;
    case 'slq': return `Δ ${num(q.delta)} · base ${q.base === 'sqrt2' ? '√2' : '2'} · shift ${num(q.shift)}`;
    case 'ppoq': {
      const lo = Math.min(...q.delta), hi = Math.max(...q.delta);
      const one = typeof token === 'number' ? ` · token ${token}: Δ ${num(q.delta[token])}, z ${q.zero[token]}` : '';
      return `τ ${num(q.tau)}${one} · Δ over ${q.delta.length} tokens ${num(lo)} … ${num(hi)}`;
    }
  }
}

interface Props { run: QuantRun; overlay: LevelOverlay | null; tokenLabels: string[] }

export function QuantSiteInfo({ run, overlay, tokenLabels }: Props) {
  if (!overlay) return <p className="muted" data-testid="quant-site-info">{run.label} {bitsLabel(run.settings)}: this tensor has no quantizer of its own.</p>;
  const q = overlay.quantizer, r = overlay.report;
  return (
    <div className="quant-site" data-testid="quant-site-info">
      <p className="stats-line">
        <b>{run.label} {bitsLabel(run.settings)}</b> · {QUANTIZER_LABELS[q.kind]} · {parameters(q, overlay.token)}
        {' '}· {overlay.count} levels ({overlay.drawn.length} in view)
        {r && <> · MSE {num(r.mse)} · SQNR {Number.isFinite(r.sqnrDb) ? `${r.sqnrDb.toFixed(1)} dB` : 'lossless'}
          {r.outlierFraction !== null && ` · ${(100 * r.outlierFraction).toFixed(3)}% above τ (FP32)`}</>}
      </p>
      {q.kind === 'ppoq' && (
        <label>levels of token <select data-testid="level-token" value={String(overlay.token)}
          onChange={(e) => setLevelToken(e.target.value === 'all' ? 'all' : Number(e.target.value))}>
          <option value="all">all (faint)</option>
          {q.delta.map((_, t) => <option key={t} value={t}>{tokenLabels[t] ?? t}</option>)}
        </select></label>
      )}
    </div>
  );
}
