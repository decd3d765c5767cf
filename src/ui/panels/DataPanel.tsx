import { openFiles } from '../drop-actions.ts';
import { isImageFile } from '../drop.ts';
import { useStudio } from '../store.ts';
import { PreprocessPanel } from './PreprocessPanel.tsx';
import { ThumbnailGrid } from './ThumbnailGrid.tsx';

/** Files from a picker; folder pickers give `webkitRelativePath` (`Coat/1.png`), which labels need. */
const picked = (files: FileList | null) => [...(files ?? [])].filter((f) => isImageFile(f.name))
  .map((file) => ({ path: file.webkitRelativePath || file.name, file }));

export function DataPanel() {
  const data = useStudio((s) => s.data);
  const labelled = data.images.filter((i) => i.label !== null).length;
  return (
    <section className="panel" data-testid="data-panel">
      <h2>Images</h2>
      <div className="row">
        <label className="picker">Open an image folder…
          <input type="file" multiple {...{ webkitdirectory: '' }} data-testid="folder-input" onChange={(e) => void openFiles(picked(e.target.files))} />
        </label>
        <label className="picker">…or images
          <input type="file" multiple accept=".png,.jpg,.jpeg" data-testid="images-input" onChange={(e) => void openFiles(picked(e.target.files))} />
        </label>
      </div>
      <p data-testid="data-count">{data.images.length} images, {labelled} labelled</p>
      <p className="muted" data-testid="label-source">{data.labelSource}</p>
      {data.unknown.length > 0 && (
        <details className="warn" data-testid="unknown-labels"><summary>{data.unknown.reduce((n, u) => n + u.count, 0)} images without a known label</summary>
          <ul>{data.unknown.map((u) => <li key={u.key}><code>{u.key}</code> ({u.count}, e.g. {u.example}): {u.reason}</li>)}</ul>
        </details>
      )}
      {data.warnings.map((w) => <p key={w} className="warn">{w}</p>)}
      <ThumbnailGrid />
      <PreprocessPanel />
    </section>
  );
}
