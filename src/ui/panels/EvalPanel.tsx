import { cancelEvaluation, runEvaluation } from '../actions.ts';
import { useStudio } from '../store.ts';
import { SkippedImages } from './SkippedImages.tsx';
import { PredictionsTable } from './PredictionsTable.tsx';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function EvalPanel() {
  const ev = useStudio((s) => s.evaluation);
  const ready = useStudio((s) => s.engine.status === 'ready' && s.model.loaded !== null && s.data.images.length > 0);
  const r = ev.result;
  return (
    <section className="panel" data-testid="eval-panel">
      <h2>Evaluate (FP32)</h2>
      <button disabled={!ready || ev.running} onClick={() => void runEvaluation()} data-testid="run-eval">Run</button>
      {ev.running && <button onClick={cancelEvaluation} data-testid="cancel-eval">Cancel</button>}
      {(ev.running || ev.done > 0) && <progress max={ev.total} value={ev.done} data-testid="eval-progress" />}
      {ev.running && <span className="muted"> {ev.done}/{ev.total}</span>}
      {ev.error && <p className={ev.error.code === 'cancelled' ? 'muted' : 'error'} data-testid="eval-error">{ev.error.message}</p>}
      {ev.notice && <p className="warn" data-testid="eval-notice">{ev.notice}</p>}
      {r && (
        <>
          <p className="result" data-testid="eval-result">
            top-1 <b data-testid="top1">{pct(r.top1)}</b> ({r.correct1}/{r.count}), top-5 <b data-testid="top5">{pct(r.top5)}</b>,
            {' '}{r.seconds.toFixed(1)} s{r.skipped.length > 0 && `, ${r.skipped.length} skipped`}
          </p>
          <SkippedImages skipped={r.skipped} />
          <PredictionsTable predictions={r.predictions} />
        </>
      )}
    </section>
  );
}
