/**
 * Post-training quantization in the worker: settings, Run/Cancel (and Pause while ASMO optimises) with
 * progress, ASMO's live curves, the runs compared with FP32, and the selected run's error per site (or, for
 * the quantizers of a loaded export, FileRunSection). The explorer below draws the selected run's levels.
 */
import { lazy, Suspense } from 'react';
import { isQuantBlockSite, type QuantSiteId } from '../../engine/quant/sites.ts';
import { bitsLabel } from '../quant-labels.ts';
import { cancelQuantization, pauseQuantization, quantizeInput, runQuantization } from '../quantize-actions.ts';
import { selectSite } from '../stats-actions.ts';
import { useStudio } from '../store.ts';
import { AsmoMemory } from './AsmoMemory.tsx';
import { CalibrationMemory } from './CalibrationMemory.tsx';
import { ExportSection } from './ExportSection.tsx';
import { FileRunSection } from './FileRunSection.tsx';
import { QuantResultsTable } from './QuantResultsTable.tsx';
import { QuantSettingsForm } from './QuantSettingsForm.tsx';
import { SkippedImages } from './SkippedImages.tsx';

// echarts loads only once there is a run to draw.
const QuantErrorChart = lazy(() => import('../charts/QuantErrorChart.tsx').then((m) => ({ default: m.QuantErrorChart })));
const AsmoLivePanel = lazy(() => import('./AsmoLivePanel.tsx').then((m) => ({ default: m.AsmoLivePanel })));

const PHASES: Record<string, string> = {
  starting: 'starting', decoding: 'decoding calibration images', calibrating: 'calibrating', optimising: 'optimising (ASMO), modules done',
  fp32: 'evaluating FP32', quantized: 'evaluating quantized',
};

/** A click on a block site's bar opens it in the explorer (when statistics are recorded). */
function pickSite(site: QuantSiteId): void {
  if (site.block !== null && isQuantBlockSite(site.kind) && useStudio.getState().statistics.summary) void selectSite({ block: site.block, kind: site.kind });
}

export function QuantizePanel() {
  const q = useStudio((s) => s.quantization);
  const engineReady = useStudio((s) => s.engine.status === 'ready');
  const modelLoading = useStudio((s) => s.model.loading !== null || s.model.loaded === null);
  const problem = useStudio((s) => quantizeInput(s).problem);
  const depth = useStudio((s) => s.model.loaded?.summary.depth ?? 0);
  const asmoStatus = useStudio((s) => s.asmo.status);
  const paused = useStudio((s) => s.asmo.paused);
  const run = q.runs.find((r) => r.id === q.selected) ?? null;
  return (
    <section className="panel" data-testid="quant-panel">
      <h2>Quantize</h2>
      <QuantSettingsForm disabled={q.running} />
      <div className="row">
        <button disabled={!engineReady || problem !== null || q.running} onClick={() => void runQuantization()} data-testid="run-quant">Run</button>
        {q.running && <button onClick={cancelQuantization} data-testid="cancel-quant">Cancel</button>}
        {q.running && asmoStatus === 'running' && q.phase === 'optimising' && (
          <button onClick={() => pauseQuantization(!paused)} data-testid="pause-quant" title="Holds the optimisation between two steps">{paused ? 'Resume' : 'Pause'}</button>
        )}
        {q.running && (
          <span data-testid="quant-progress">
            <progress max={q.total || 1} value={q.done} /> {PHASES[q.phase] ?? q.phase}{q.total > 0 && ` ${q.done}/${q.total}`}{paused && ' (paused)'}
          </span>
        )}
      </div>
      {!problem && <CalibrationMemory />}
      {!problem && <AsmoMemory />}
      {problem && <p className={modelLoading ? 'muted' : 'error'} data-testid="quant-invalid">{problem}</p>}
      {q.error && <p className={q.error.code === 'cancelled' ? 'muted' : 'error'} data-testid="quant-error">{q.error.message}</p>}
      {q.notice && <p className="warn" data-testid="quant-notice">{q.notice}</p>}
      <QuantResultsTable />
      {asmoStatus !== 'idle' && <Suspense fallback={<p className="muted">Loading charts…</p>}><AsmoLivePanel /></Suspense>}
      {run?.fromFile && <FileRunSection run={run} />}
      {run && !run.fromFile && (
        <>
          <h3>Quantization error per site: {run.label} {bitsLabel(run.settings)} <span className="muted">(calibration images{run.asmo ? ', before the optimisation' : ''}; click a bar to open it in the explorer)</span></h3>
          <SkippedImages skipped={run.skipped} testId="quant-skipped" />
          <Suspense fallback={<p className="muted">Loading chart…</p>}>
            <QuantErrorChart sites={run.sites} depth={depth} onPick={pickSite} />
          </Suspense>
          <ExportSection run={run} />
        </>
      )}
    </section>
  );
}
