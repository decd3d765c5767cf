/**
 * Finished quantization runs next to FP32: an FP32 row for each evaluation set (a calibration size
 * splits the images differently), then each run evaluated on it, with Δ top-1 against that FP32 row.
 * A row selects the run shown in the error chart and in the explorer's level overlay. A run read from a
 * loaded export ('From file: …') has no accuracy until evaluated; its FP32 row is FP32 activations on the
 * file's (already fake-quantized) weights.
 */
import { bitsLabel, pct } from '../quant-labels.ts';
import { selectRun } from '../quantize-actions.ts';
import { useStudio, type QuantRun } from '../store.ts';

/** A run read from a file that has not been evaluated yet: no accuracy to show. */
const pending = (r: QuantRun) => r.fromFile !== undefined && !r.fromFile.evaluated;

const delta = (d: number) => `${d >= 0 ? '+' : '−'}${Math.abs(100 * d).toFixed(2)} pp`;

function Fp32Row({ run }: { run: QuantRun }) {
  return (
    <tr className="fp32" data-testid="quant-row-fp32">
      <td /><td>{run.fromFile ? 'FP32 activations, the file\'s weights' : 'FP32'}</td><td>—</td><td>—</td><td>{run.evalImages}</td>
      <td>{pct(run.fp32.top1)}</td><td>{pct(run.fp32.top5)}</td><td /><td>{run.timings.fp32EvalSeconds.toFixed(1)}</td>
    </tr>
  );
}

export function QuantResultsTable() {
  const runs = useStudio((s) => s.quantization.runs);
  const selected = useStudio((s) => s.quantization.selected);
  if (!runs.length) return null;
  return (
    <table className="preds quant-results" data-testid="quant-results">
      <thead><tr><th /><th>method</th><th>bits</th><th>calib.</th><th>eval.</th><th>top-1</th><th>top-5</th><th>Δ top-1</th><th>s</th></tr></thead>
      <tbody>
        {runs.flatMap((r, i) => [
          ...(!pending(r) && (i === 0 || runs[i - 1].evalSet !== r.evalSet) ? [<Fp32Row key={`fp32-${r.id}`} run={r} />] : []),
          <tr key={r.id} className={r.id === selected ? 'selected' : ''} onClick={() => selectRun(r.id)}
            data-testid="quant-row" data-label={r.label} data-bits={bitsLabel(r.settings)} data-source={r.fromFile ? 'file' : 'calibrated'} aria-selected={r.id === selected}>
            <td><input type="radio" name="quant-run" checked={r.id === selected} onChange={() => selectRun(r.id)} aria-label={`show run ${r.id}`} /></td>
            <td>{r.label}</td><td>{bitsLabel(r.settings)}</td><td>{r.fromFile ? 'file' : r.calibImages}</td><td>{pending(r) ? '—' : r.evalImages}</td>
            {pending(r) ? <><td>—</td><td>—</td><td /></> : <>
              <td>{pct(r.quantized.top1)}</td><td>{pct(r.quantized.top5)}</td>
              <td className={r.quantized.top1 < r.fp32.top1 ? 'worse' : ''}>{delta(r.quantized.top1 - r.fp32.top1)}</td>
            </>}
            <td title={r.fromFile ? `FP32 ${r.timings.fp32EvalSeconds.toFixed(1)} s, quantized ${r.timings.quantizedEvalSeconds.toFixed(1)} s` : `calibration ${r.timings.calibrationSeconds.toFixed(1)} s (${r.backend}), `
              + (r.asmo ? `optimisation ${r.timings.optimisationSeconds.toFixed(1)} s, ` : '')
              + `FP32 ${r.timings.fp32EvalSeconds.toFixed(1)} s, quantized ${r.timings.quantizedEvalSeconds.toFixed(1)} s`}>
              {pending(r) ? '—' : r.seconds.toFixed(1)}</td>
          </tr>,
        ])}
      </tbody>
    </table>
  );
}
