import { cancelEvaluation, runEvaluation } from '../actions.ts';
import { useStudio } from '../store.ts';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function EvalPanel() {
  const ev = useStudio((s) => s.evaluation);
  const ready = useStudio((s) => s.engine.status === 'ready' && s.model.loaded !== null && s.data.images.length > 0);
  const labels = useStudio((s) => s.model.loaded?.labels ?? null);
  const name = (c: number) => labels?.[c] ?? String(c);
  const r = ev.result;
  const rows = r ? [...r.predictions].sort((a, b) => Number(a.label === a.top5[0]) - Number(b.label === b.top5[0])).slice(0, 50) : [];
  return (
    <section className="panel" data-testid="eval-panel">
      <h2>Evaluate (FP32)</h2>
      <button disabled={!ready || ev.running} onClick={() => void runEvaluation()} data-testid="run-eval">Run</button>
      {ev.running && <button onClick={cancelEvaluation} data-testid="cancel-eval">Cancel</button>}
      {(ev.running || ev.done > 0) && <progress max={ev.total} value={ev.done} data-testid="eval-progress" />}
      {ev.error && <p className={ev.error.code === 'cancelled' ? 'muted' : 'error'} data-testid="eval-error">{ev.error.message}</p>}
      {r && (
        <>
          <p className="result" data-testid="eval-result">
            top-1 <b data-testid="top1">{pct(r.top1)}</b> ({r.correct1}/{r.count}), top-5 <b data-testid="top5">{pct(r.top5)}</b>,
            {' '}{r.seconds.toFixed(1)} s{r.skipped.length > 0 && `, ${r.skipped.length} skipped`}
          </p>
          {r.skipped.map((s) => <p key={s.name} className="warn">skipped {s.name}: {s.reason}</p>)}
          <table className="preds"><thead><tr><th>image</th><th>label</th><th>prediction</th><th>p</th></tr></thead><tbody>
            {rows.map((p) => (
              <tr key={p.name} className={p.label !== null && p.label !== p.top5[0] ? 'wrong' : ''}>
                <td>{p.name}</td><td>{p.label === null ? '—' : name(p.label)}</td><td>{name(p.top5[0])}</td><td>{p.top5Prob[0].toFixed(2)}</td>
              </tr>
            ))}
          </tbody></table>
        </>
      )}
    </section>
  );
}
