import { openFiles } from '../drop-actions.ts';
import { fileQuantLabel } from '../file-run.ts';
import { useStudio } from '../store.ts';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function ModelPanel() {
  const model = useStudio((s) => s.model);
  const s = model.loaded?.summary;
  return (
    <section className="panel" data-testid="model-panel">
      <h2>Model</h2>
      <label className="picker">Open an ONNX ViT (or drop it anywhere)…
        <input type="file" accept=".onnx" data-testid="model-input"
               onChange={(e) => { const f = e.target.files?.[0]; if (f) void openFiles([{ path: f.name, file: f }]); }} />
      </label>
      {model.loading && <p data-testid="model-loading">Loading {model.loading}…</p>}
      {model.error && <p className="error" role="alert" data-testid="model-error">{model.error.message}</p>}
      {model.loaded && s && (
        <>
          <p className="name" data-testid="model-name">{model.loaded.name}{model.isDemo && ' — Fashion-MNIST ViT with outlier channels (embedded demo)'}</p>
          {model.loaded.quantization && (
            <p data-testid="model-quantization" title="The file's quantizers are the run 'From file' in the Quantize panel">
              {fileQuantLabel(model.loaded.quantization)}, quantizers from the file
            </p>
          )}
          <table className="kv" data-testid="model-summary"><tbody>
            <tr><th>family</th><td>{s.family}</td></tr>
            <tr><th>input</th><td>{s.inChannels}×{s.imageSize}×{s.imageSize}, patch {s.patch}, {s.tokens} tokens</td></tr>
            <tr><th>width / depth / heads</th><td data-testid="model-dims">{s.dim} / {s.depth} / {s.heads}</td></tr>
            <tr><th>MLP</th><td>{s.mlpDim}, GELU {s.gelu}</td></tr>
            <tr><th>classes</th><td>{s.numClasses}{model.loaded.labels ? ' (named in the file)' : ''}</td></tr>
            <tr><th>parameters</th><td>{s.parameters.toLocaleString('en-US')} ({mib(s.weightBytes)})</td></tr>
            <tr><th>GPU memory</th><td>{mib(s.weightBytes)} weights + {mib(s.activationBytesPerImage)} per image in flight</td></tr>
          </tbody></table>
          {model.loaded.warnings.map((w) => <p key={w} className="warn">{w}</p>)}
        </>
      )}
    </section>
  );
}
