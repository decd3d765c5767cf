/**
 * The "optimise (ASMO)" part of the quantization form (ADFQ only): steps per module, which modules, the
 * gradient mode, the attention term's KL axis, and the other hyper-parameters with the spec's defaults
 * (ADFQ.md §5). An empty number field means its default.
 */
import { DEFAULT_ASMO_CALIB_IMAGES, DEFAULT_ASMO_SETTINGS, type AsmoModuleKind, type GradientMode, type KlAxis } from '../../engine/asmo/settings.ts';
import { ASMO_FIELD_NAMES, defaultAsmoIters } from '../asmo-form.ts';
import { ASMO_MODULE_LABELS } from '../quant-labels.ts';
import { setAsmoForm } from '../quantize-actions.ts';
import { useStudio, type AsmoNumberField } from '../store.ts';

const MODULES: AsmoModuleKind[] = ['patch', 'attention', 'mlp', 'head'];
const HYPER: { key: AsmoNumberField; title: string }[] = [
  { key: 'lrWeights', title: 'Adam learning rate of the AdaRound variables α (constant)' },
  { key: 'lrSteps', title: 'Adam learning rate of the input step sizes Δ (cosine to 0 over the steps)' },
  { key: 'roundWeight', title: 'λ of the rounding regulariser λ·Σ(1 − |2h(α) − 1|^β)' },
  { key: 'betaStart', title: 'β at the end of the warm-up; it decays linearly to β end' },
  { key: 'betaEnd', title: 'β at the last step' },
  { key: 'warmup', title: 'Share of the steps without the rounding term (0.2 = 20%)' },
  { key: 'klTemperature', title: 'T of softmax(A/T) in the attention term' },
  { key: 'klWeight', title: 'Weight of the attention term' },
  { key: 'batch', title: 'Mini-batch drawn with replacement each step' },
  { key: 'seed', title: 'Seeds the mini-batches and QDrop masks: the same seed gives the same result' },
];

export function AsmoSettingsForm({ disabled }: { disabled: boolean }) {
  const f = useStudio((s) => s.quantization.form.asmo);
  const adfq = useStudio((s) => s.quantization.form.method === 'adfq');
  const isSoftware = useStudio((s) => s.engine.isSoftware);
  const off = disabled || !adfq || !f.enabled;
  const field = (key: AsmoNumberField, label: string, title?: string) => (
    <label key={key} title={title}>{label} <input className="short" data-testid={`asmo-${key}`} value={f[key]} disabled={off}
      placeholder={String(key === 'iters' ? defaultAsmoIters(isSoftware) : DEFAULT_ASMO_SETTINGS[key])}
      onChange={(e) => setAsmoForm({ [key]: e.target.value })} /></label>
  );
  return (
    <fieldset className="asmo-form" data-testid="asmo-form">
      <legend>
        <label title="ASMO (ADFQ.md §5): after calibration, each module (patch embedding, each block's attention and MLP, the head) learns its weight rounding (AdaRound) and input step sizes to reproduce the FP32 model's outputs">
          <input type="checkbox" data-testid="asmo-enabled" checked={adfq && f.enabled} disabled={disabled || !adfq}
            onChange={(e) => setAsmoForm({ enabled: e.target.checked })} /> optimise (ASMO) after calibration
        </label>
        {!adfq && <span className="muted"> (ADFQ only)</span>}
      </legend>
      <div className="row">
        {field('iters', 'steps per module')}
        <span className="muted" data-testid="asmo-iters-note">
          {isSoftware
            ? `${defaultAsmoIters(true)} preselected on this software adapter (the spec's ${DEFAULT_ASMO_SETTINGS.iters} would take hours on a CPU rasteriser); type ${DEFAULT_ASMO_SETTINGS.iters} for the paper's setting`
            : `the spec's ${DEFAULT_ASMO_SETTINGS.iters} (the published command)`}
        </span>
      </div>
      <div className="row">
        <span className="muted">modules:</span>
        {MODULES.map((k) => (
          <label key={k} className="toggle">
            <input type="checkbox" data-testid={`asmo-module-${k}`} checked={f.modules[k]} disabled={off}
              onChange={(e) => setAsmoForm({ modules: { ...f.modules, [k]: e.target.checked } })} /> {ASMO_MODULE_LABELS[k]}
          </label>
        ))}
      </div>
      <div className="row">
        <label>gradients <select data-testid="asmo-gradients" value={f.gradients} disabled={off} onChange={(e) => setAsmoForm({ gradients: e.target.value as GradientMode })}>
          <option value="default">released code (STE for q, k, v only)</option>
          <option value="ste-lsq">STE everywhere, LSQ step gradients</option>
        </select></label>
        <label>attention KL <select data-testid="asmo-kl-axis" value={f.klAxis} disabled={off} onChange={(e) => setAsmoForm({ klAxis: e.target.value as KlAxis })}>
          <option value="heads">over heads (released code)</option>
          <option value="keys">over keys</option>
        </select></label>
      </div>
      <details data-testid="asmo-hyper">
        <summary>hyper-parameters (the spec's defaults)</summary>
        <div className="row">{HYPER.map((h) => field(h.key, ASMO_FIELD_NAMES[h.key], h.title))}</div>
      </details>
      {adfq && f.enabled && (
        <p className="muted">
          The calibration images are also the reconstruction set (the paper uses {DEFAULT_ASMO_CALIB_IMAGES}; the default here is
          that or half of the images, whichever is fewer). Top-1 after each block is measured on up to 64 of the evaluation images.
        </p>
      )}
    </fieldset>
  );
}
