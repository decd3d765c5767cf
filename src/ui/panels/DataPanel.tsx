import { setImages, setNormalization, setPreset } from '../actions.ts';
import { useStudio, type PresetName } from '../store.ts';

async function readPicked(files: FileList | null) {
  const list = [...(files ?? [])].filter((f) => /\.(jpe?g|png)$/i.test(f.name));
  return Promise.all(list.map(async (f) => ({ path: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

const parse = (text: string) => text.split(',').map(Number);

export function DataPanel() {
  const data = useStudio((s) => s.data);
  const pre = useStudio((s) => s.preprocessing);
  const labelled = data.images.filter((i) => i.label !== null).length;
  return (
    <section className="panel" data-testid="data-panel">
      <h2>Images</h2>
      <label className="picker">Open an image folder…
        <input type="file" multiple {...{ webkitdirectory: '' }} onChange={async (e) => setImages(await readPicked(e.target.files))} />
      </label>
      <p data-testid="data-count">{data.images.length} images, {labelled} labelled</p>
      <p className="muted">{data.labelSource}</p>
      {data.warnings.map((w) => <p key={w} className="warn">{w}</p>)}
      <h3>Preprocessing</h3>
      <select value={pre.preset} data-testid="preset" onChange={(e) => setPreset(e.target.value as PresetName)}>
        <option value="model">from the model file</option>
        <option value="imagenet">ImageNet mean/std</option>
        <option value="half">0.5 / 0.5 (AugReg ViT)</option>
        <option value="custom">custom</option>
      </select>
      <div className="row">
        <label>mean <input value={pre.mean.join(',')} onChange={(e) => setNormalization(parse(e.target.value), pre.std, pre.resize)} /></label>
        <label>std <input value={pre.std.join(',')} onChange={(e) => setNormalization(pre.mean, parse(e.target.value), pre.resize)} /></label>
        <label>resize <input type="number" value={pre.resize} onChange={(e) => setNormalization(pre.mean, pre.std, Number(e.target.value))} /></label>
      </div>
    </section>
  );
}
