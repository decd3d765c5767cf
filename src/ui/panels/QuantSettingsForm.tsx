/** The quantization settings: method, bit widths (with presets), ADFQ ablations and τ, calibration size, ASMO. */
import { METHOD_LABELS, METHODS, type Method } from '../../engine/quant/settings.ts';
import { formCalibDefault, setQuantForm } from '../quantize-actions.ts';
import { useStudio } from '../store.ts';
import { AsmoSettingsForm } from './AsmoSettingsForm.tsx';

const BITS = [2, 3, 4, 5, 6, 7, 8];
const PRESETS = [4, 6, 8];

export function QuantSettingsForm({ disabled }: { disabled: boolean }) {
  const f = useStudio((s) => s.quantization.form);
  const images = useStudio((s) => s.data.images.length);
  const adfq = f.method === 'adfq';
  const bitsSelect = (which: 'bitsW' | 'bitsA', id: string) => (
    <select data-testid={id} value={f[which]} disabled={disabled} onChange={(e) => setQuantForm({ [which]: Number(e.target.value) })}>
      {BITS.map((b) => <option key={b} value={b}>{b}</option>)}
    </select>
  );
  const ablation = (key: 'noPpoq' | 'noSlq' | 'noLog', id: string, label: string, title: string) => (
    <label className="toggle" title={title}>
      <input type="checkbox" data-testid={id} checked={adfq && f[key]} disabled={disabled || !adfq} onChange={(e) => setQuantForm({ [key]: e.target.checked })} /> {label}
    </label>
  );
  const calibDefault = formCalibDefault(f, images), calib = f.calibSize.trim() === '' ? calibDefault : Number(f.calibSize);
  return (
    <div className="quant-form">
      <div className="row">
        <label>method <select data-testid="quant-method" value={f.method} disabled={disabled} onChange={(e) => setQuantForm({ method: e.target.value as Method })}>
          {METHODS.map((m) => <option key={m} value={m}>{METHOD_LABELS[m]}</option>)}
        </select></label>
        <label>weights {bitsSelect('bitsW', 'quant-bits-w')} bits</label>
        <label>activations {bitsSelect('bitsA', 'quant-bits-a')} bits</label>
        {PRESETS.map((b) => (
          <button key={b} type="button" className={f.bitsW === b && f.bitsA === b ? 'chip on' : 'chip'} disabled={disabled}
            data-testid={`quant-preset-w${b}a${b}`} onClick={() => setQuantForm({ bitsW: b, bitsA: b })}>W{b}A{b}</button>
        ))}
      </div>
      <div className="row">
        <span className="muted">ablations (ADFQ only):</span>
        {ablation('noPpoq', 'quant-no-ppoq', 'no PPOQ', 'Both LayerNorm outputs quantized uniformly per tensor instead of per token with FP32 outliers')}
        {ablation('noSlq', 'quant-no-slq', 'no SLQ', 'The GELU output quantized uniformly instead of with the shifted log quantizer')}
        {ablation('noLog', 'quant-no-log', 'no log√2', 'The attention probabilities quantized uniformly instead of with log√2')}
        <label title="PPOQ passes |x| above τ through in FP32">τ qkv <input className="short" data-testid="quant-tau-qkv" value={f.tauQkv}
          disabled={disabled || !adfq || f.noPpoq} onChange={(e) => setQuantForm({ tauQkv: e.target.value })} /></label>
        <label>τ fc1 <input className="short" data-testid="quant-tau-fc1" value={f.tauFc1}
          disabled={disabled || !adfq || f.noPpoq} onChange={(e) => setQuantForm({ tauFc1: e.target.value })} /></label>
      </div>
      <div className="row">
        <label>calibration images <input className="short" data-testid="quant-calib-size" inputMode="numeric" value={f.calibSize}
          placeholder={String(calibDefault)} disabled={disabled} onChange={(e) => setQuantForm({ calibSize: e.target.value })} /></label>
        {images > 0 && Number.isInteger(calib) && calib >= 1 && calib < images && (
          <span className="muted">of {images}, taken round-robin over the classes; the other {images - calib} are evaluated</span>
        )}
      </div>
      <AsmoSettingsForm disabled={disabled} />
    </div>
  );
}
