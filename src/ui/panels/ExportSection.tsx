/**
 * Export of the selected run: the quantized ONNX (QDQ: integer weights behind DequantizeLinear, int8 or, at
 * opset 21 with b_w ≤ 4, int4), the FP32 graph with fake-quantized weights, the JSON report and the HTML
 * summary. Each button shows the size of the file it saves; model files are built whole in the worker
 * before any button saves them. Names (model, files) are rendered as text.
 */
import { useEffect } from 'react';
import type { ExportFormat } from '../../engine/export/export-onnx.ts';
import { formatBytes } from '../../engine/report/format.ts';
import {
  downloadModelExport, downloadReport, exportFileName, exportKey, modelChoices, prepareModelExports, runReportFiles, setExportOptions,
} from '../export-actions.ts';
import { bitsLabel } from '../quant-labels.ts';
import { useStudio, type ExportOpsetChoice, type QuantRun } from '../store.ts';

const OPSETS: ExportOpsetChoice[] = [13, 17, 21];

interface FileButtonProps { testId: string; label: string; fileName: string; bytes: number | null; note?: string; onClick(): void }

function FileButton({ testId, label, fileName, bytes, note, onClick }: FileButtonProps) {
  return (
    <div className="export-file">
      <button data-testid={testId} disabled={bytes === null} onClick={onClick} data-bytes={bytes ?? ''} data-filename={fileName}
        title={`Saves ${fileName}`}>
        {label} <span className="size">{bytes === null ? (note ?? '…') : formatBytes(bytes)}</span>
      </button>
      <code className="file-name">{fileName}</code>
    </div>
  );
}

export function ExportSection({ run }: { run: QuantRun }) {
  const opts = useStudio((s) => s.export);
  const generation = useStudio((s) => s.quantization.generation);
  const engineReady = useStudio((s) => s.engine.status === 'ready');
  const fp32Bytes = useStudio((s) => s.model.loaded?.summary.weightBytes ?? 0);
  const choices = modelChoices(run, opts);
  const build = (f: ExportFormat) => opts.builds[exportKey(generation, run.id, choices[f])];
  const qdq = build('qdq'), fake = build('fake-quant-weights');

  useEffect(() => {
    if (engineReady) void prepareModelExports(run.id);
  }, [run.id, opts.opset, opts.int4, engineReady, generation]);

  // The report carries the model exports' sizes: it is final once both are settled.
  const settled = [qdq, fake].every((b) => b && b.status !== 'building');
  const reports = settled ? runReportFiles(run, { qdq: qdq?.summary ?? undefined, fakeQuant: fake?.summary ?? undefined }) : null;
  const sizes = qdq?.summary ?? fake?.summary ?? null;
  const note = (b: typeof qdq) => (b?.status === 'failed' ? 'failed' : 'building…');
  const int4Possible = run.settings.bitsW <= 4;
  return (
    <div className="export" data-testid="export-section">
      <h3>Export: {run.label} {bitsLabel(run.settings)}</h3>
      <div className="row">
        <label>ONNX opset{' '}
          <select value={opts.opset} onChange={(e) => setExportOptions({ opset: Number(e.target.value) as ExportOpsetChoice })} data-testid="export-opset">
            {OPSETS.map((o) => <option key={o} value={o}>{o}{o === 17 ? ' (LayerNormalization)' : o === 21 ? ' (int4 possible)' : ''}</option>)}
          </select>
        </label>
        <label title={int4Possible ? 'QDQ weights as int4 (needs opset 21)' : 'int4 weights need weights of 4 bits or fewer'}>
          <input type="checkbox" checked={choices.qdq.int4} disabled={!int4Possible} onChange={(e) => setExportOptions({ int4: e.target.checked })}
            data-testid="export-int4" /> int4 weights (opset 21)
        </label>
      </div>
      <p data-testid="export-sizes">
        FP32 model {formatBytes(fp32Bytes)}
        {sizes && <> · weights {formatBytes(sizes.fp32WeightBytes)} in FP32, {formatBytes(sizes.packedWeightBytes)} packed at {sizes.bitsW} bits
          {' '}({(sizes.fp32WeightBytes / sizes.packedWeightBytes).toFixed(1)}× smaller; a step and zero point per channel included)</>}
      </p>
      <div className="row export-buttons">
        <FileButton testId="export-qdq" label="Quantized ONNX (QDQ)" fileName={exportFileName(run, choices.qdq)}
          bytes={qdq?.status === 'ready' ? qdq.summary!.fileBytes : null} note={note(qdq)} onClick={() => void downloadModelExport(run.id, 'qdq')} />
        <FileButton testId="export-fake-quant" label="FP32 + fake-quant weights" fileName={exportFileName(run, choices['fake-quant-weights'])}
          bytes={fake?.status === 'ready' ? fake.summary!.fileBytes : null} note={note(fake)} onClick={() => void downloadModelExport(run.id, 'fake-quant-weights')} />
        <FileButton testId="export-report" label="Report (JSON)" fileName={exportFileName(run, 'report')} bytes={reports?.json.length ?? null}
          onClick={() => reports && downloadReport(run, reports, 'json')} />
        <FileButton testId="export-summary" label="Summary (HTML)" fileName={exportFileName(run, 'summary')} bytes={reports?.html.length ?? null}
          onClick={() => reports && downloadReport(run, reports, 'html')} />
      </div>
      {[qdq, fake].map((b, i) => b?.error && <p key={i} className="error" data-testid="export-error">{b.error.message}</p>)}
      <p className="muted">
        In onnxruntime, run the QDQ file with the session option <code>session.qdq_matmulnbits_accuracy_level = "1"</code> (ort-web/node:{' '}
        <code>{"extra: { session: { qdq_matmulnbits_accuracy_level: '1' } }"}</code>): by default ort replaces DequantizeLinear → MatMul by
        MatMulNBits, which quantizes the MatMul's input to int8 on the fly, an extra quantizer this model does not have.
      </p>
    </div>
  );
}
