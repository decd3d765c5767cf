/** Preprocessing as the engine applies it: resize (shorter side), centre crop to the model's size, normalise. */
import { setNormalization, setPreset } from '../actions.ts';
import { useStudio, type PresetName } from '../store.ts';
import { NumberListInput } from './NumberListInput.tsx';

export function PreprocessPanel() {
  const pre = useStudio((s) => s.preprocessing);
  const crop = useStudio((s) => s.model.loaded?.summary.imageSize ?? null);
  return (
    <>
      <h3>Preprocessing</h3>
      <select value={pre.preset} data-testid="preset" onChange={(e) => setPreset(e.target.value as PresetName)}>
        <option value="model">from the model file</option>
        <option value="imagenet">ImageNet mean/std</option>
        <option value="half">0.5 / 0.5 (AugReg ViT)</option>
        <option value="custom">custom</option>
      </select>
      <div className="row">
        <label>mean <NumberListInput testId="mean" value={pre.mean} onCommit={(v) => setNormalization(v, pre.std, pre.resize)} /></label>
        <label>std <NumberListInput testId="std" value={pre.std} onCommit={(v) => setNormalization(pre.mean, v, pre.resize)} /></label>
        <label>resize <input type="number" min={1} value={pre.resize} data-testid="resize" onChange={(e) => { const v = Number(e.target.value); if (v >= 1) setNormalization(pre.mean, pre.std, v); }} /></label>
        <label>crop <input value={crop ?? '—'} readOnly disabled title="the model's input size" data-testid="crop" /></label>
      </div>
      <p className="muted">Bicubic resize of the shorter side to {pre.resize}, centre crop {crop ?? '?'}×{crop ?? '?'}, then (x/255 − mean) / std.</p>
    </>
  );
}
