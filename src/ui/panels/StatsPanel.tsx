/** The activation distribution explorer: record statistics, then pick a block and a tensor to inspect. */
import { lazy, Suspense } from 'react';
import { SITE_KINDS, SITE_LABELS, type SiteKind } from '../../engine/stats/types.ts';
import { cancelStatistics, recordStatistics, selectSite } from '../stats-actions.ts';
import { useStudio } from '../store.ts';

// echarts is most of the bundle: load the charts only once there are statistics to draw.
const SiteView = lazy(() => import('./SiteView.tsx').then((m) => ({ default: m.SiteView })));
const TokenBlockView = lazy(() => import('./TokenBlockView.tsx').then((m) => ({ default: m.TokenBlockView })));

export function StatsPanel() {
  const st = useStudio((s) => s.statistics);
  const ready = useStudio((s) => s.engine.status === 'ready' && s.model.loaded !== null && s.data.images.length > 0);
  const depth = st.summary?.depth ?? 0;
  return (
    <section className="panel" data-testid="stats-panel">
      <h2>Activation distributions</h2>
      <button disabled={!ready || st.running} onClick={() => void recordStatistics()} data-testid="record-stats">Record statistics</button>
      {st.running && <button onClick={cancelStatistics} data-testid="cancel-stats">Cancel</button>}
      {st.running && (
        <span data-testid="stats-progress">
          <progress max={st.total || 1} value={st.done} /> {st.phase} {st.done}/{st.total}
        </span>
      )}
      {st.error && <p className={st.error.code === 'cancelled' ? 'muted' : 'error'} data-testid="stats-error">{st.error.message}</p>}
      {st.summary && (
        <>
          <p className="muted" data-testid="stats-summary">{st.summary.images} images, {st.summary.tokens} tokens, {depth} blocks recorded.</p>
          <div className="row">
            <label>block <select data-testid="site-block" value={st.site.block} onChange={(e) => void selectSite({ ...st.site, block: Number(e.target.value) })}>
              {Array.from({ length: depth }, (_, b) => <option key={b} value={b}>{b}</option>)}
            </select></label>
            <label>tensor <select data-testid="site-kind" value={st.site.kind} onChange={(e) => void selectSite({ ...st.site, kind: e.target.value as SiteKind })}>
              {SITE_KINDS.map((k) => <option key={k} value={k}>{SITE_LABELS[k]}</option>)}
            </select></label>
          </div>
          {st.siteError && <p className="error">{st.siteError.message}</p>}
          <Suspense fallback={<p className="muted">Loading charts…</p>}>
            {st.siteStats && <SiteView stats={st.siteStats} />}
            <TokenBlockView summary={st.summary} kind={st.site.kind} />
          </Suspense>
        </>
      )}
    </section>
  );
}
