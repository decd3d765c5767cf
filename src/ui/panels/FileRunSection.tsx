/**
 * The selected run when its quantizers came from the loaded export: what the file holds, why there is no
 * per-site SQNR, and "Evaluate quantized" (every loaded image, no calibration; progress and Cancel are the
 * panel's).
 */
import { evaluateFileRun } from '../file-run-actions.ts';
import { useStudio, type QuantRun } from '../store.ts';

const counts = (c: Record<string, number>) => Object.entries(c).map(([k, n]) => `${n} ${k}`).join(', ');

export function FileRunSection({ run }: { run: QuantRun }) {
  const images = useStudio((s) => s.data.images.length);
  const busy = useStudio((s) => s.quantization.running || s.engine.status !== 'ready');
  const q = run.fromFile!.summary;
  return (
    <div className="file-run" data-testid="file-run">
      <h3>Quantizers from the file: {q.label}</h3>
      <p className="stats-line">
        {q.format}, opset {q.opset} · {q.sites} activation quantizers ({counts(q.quantizers)}) · weights {counts(q.weightStorage)}
        {q.adaroundLayers.length > 0 && ` · ${q.adaroundLayers.length} layers rounded by ASMO`}
      </p>
      <p className="muted" data-testid="quant-error-none">
        No SQNR per site for this run: it is measured against the FP32 activations during calibration, and the file holds only the
        quantizers. The explorer draws their levels; “Evaluate quantized” measures the accuracy.
      </p>
      <div className="row">
        <button disabled={busy || images === 0} onClick={() => void evaluateFileRun(run.id)} data-testid="eval-file-run">Evaluate quantized</button>
        <span className="muted">
          on all {images} loaded images (none is used for calibration); the FP32 row beside it runs the file's weights, already
          fake-quantized, with FP32 activations.
        </span>
      </div>
    </div>
  );
}
