/**
 * The quantization panel's actions: check the form against the loaded model and images, run a
 * quantization in the worker (with its module-wise optimisation, whose events fill the ASMO slice), keep
 * the finished runs. A failed or cancelled run leaves earlier runs, and the curves of modules it finished, alone.
 */
import { DEFAULT_QUANTIZE_SETTINGS, type QuantizeSettings } from '../engine/quant/settings.ts';
import { splitImages } from '../worker/split-images.ts';
import { asInfo, currentSpec, engineClient, workerImages } from './actions.ts';
import { asmoSettings, defaultAsmoCalibSize } from './asmo-form.ts';
import { applyAsmoEvent } from './asmo-live.ts';
import { cancelFileEvaluation } from './file-run-actions.ts';
import type { QuantizeHandle } from './engine-client.ts';
import { bitsLabel, runLabel } from './quant-labels.ts';
import { keepInterrupted } from './interrupted-run.ts';
import { PendingRunTracker, type PendingRun } from './persist/pending-run.ts';
import { withRecovery } from './recovery.ts';
import { resumePoint } from '../worker/run-checkpoint.ts';
import { initialAsmoLive, patch, useStudio, type AsmoForm, type QuantForm, type StudioState } from './store.ts';

let running: QuantizeHandle | null = null;

export const defaultCalibSize = (images: number) => Math.max(1, Math.min(32, images - 1));

/** ASMO applies to the ADFQ method only; the form keeps its ASMO choices while another method is picked. */
export const asmoOn = (f: QuantForm) => f.method === 'adfq' && f.asmo.enabled;

/** The calibration size the form uses when its field is empty. */
export const formCalibDefault = (f: QuantForm, images: number) => (asmoOn(f) ? defaultAsmoCalibSize(images) : defaultCalibSize(images));

export type QuantInput = { calibSize: number; settings: QuantizeSettings; problem: null } | { problem: string };

type InputState = Pick<StudioState, 'model' | 'data' | 'quantization'> & { engine?: Pick<StudioState['engine'], 'isSoftware'> };

/** The form checked against the page's model and images: what to run, or a sentence saying what to fix. */
export function quantizeInput(s: InputState): QuantInput {
  const f = s.quantization.form, images = s.data.images, total = images.length;
  if (!s.model.loaded) return { problem: 'Load a model first: drop an .onnx ViT on the page (or wait for the demo).' };
  if (!total) return { problem: 'There are no images: drop a folder of class folders; some calibrate the quantizers, the rest are evaluated.' };
  if (total < 2) return { problem: 'At least two images are needed: one to calibrate on and one to evaluate.' };
  if (!images.some((im) => im.label !== null)) {
    return { problem: 'None of the images has a label, so accuracy cannot be measured. Put them in class folders (or name them by class).' };
  }
  const raw = f.calibSize.trim(), calibSize = raw === '' ? formCalibDefault(f, total) : Number(raw);
  if (!Number.isInteger(calibSize) || calibSize < 1) {
    return { problem: `The calibration size must be a whole number from 1 to ${total - 1}, not '${raw}'.` };
  }
  if (calibSize >= total) {
    return { problem: `The calibration size (${calibSize}) must be smaller than the number of images (${total}): the images not used for calibration are evaluated.` };
  }
  if (!splitImages(images, calibSize).evaluate.some((im) => im.label !== null)) {
    return { problem: `None of the ${total - calibSize} evaluation images has a label; use a smaller calibration size or label more images.` };
  }
  const adfq = f.method === 'adfq', ppoq = adfq && !f.noPpoq;
  const tau = (v: string, name: string) => {
    const t = Number(v.trim());
    return ppoq && !(v.trim() !== '' && Number.isFinite(t) && t > 0) ? `The PPOQ threshold τ for the ${name} must be a positive number, not '${v}'.` : null;
  };
  const tauProblem = tau(f.tauQkv, 'qkv input') ?? tau(f.tauFc1, 'fc1 input');
  if (tauProblem) return { problem: tauProblem };
  const asmo = asmoOn(f) ? asmoSettings(f.asmo, s.engine?.isSoftware ?? false) : null;
  if (asmo && asmo.problem !== null) return { problem: asmo.problem };
  const d = DEFAULT_QUANTIZE_SETTINGS;
  return {
    calibSize, problem: null,
    settings: {
      method: f.method, bitsW: f.bitsW, bitsA: f.bitsA,
      ablation: adfq ? { ppoqQkv: f.noPpoq, ppoqFc1: f.noPpoq, slq: f.noSlq, logProbs: f.noLog } : {},
      tauQkv: ppoq ? Number(f.tauQkv) : d.tauQkv, tauFc1: ppoq ? Number(f.tauFc1) : d.tauFc1,
      ...(asmo ? { asmo: asmo.settings } : {}),
    },
  };
}

export function setQuantForm(v: Partial<QuantForm>): void {
  patch('quantization', { form: { ...useStudio.getState().quantization.form, ...v } });
}

export function setAsmoForm(v: Partial<AsmoForm>): void {
  const f = useStudio.getState().quantization.form;
  patch('quantization', { form: { ...f, asmo: { ...f.asmo, ...v } } });
}

export function selectRun(id: number | null): void { patch('quantization', { selected: id }); }

export function setLevelToken(t: number | 'all'): void { patch('quantization', { levelToken: t }); }

/**
 * Calibrates (and optimises, with ASMO) on the form's settings, then evaluates. A device loss restarts the
 * engine and the run goes on from its last checkpoint (after calibration, the last finished module, or the
 * last evaluated batch); `resumeFrom` (an interrupted run of the last session) does the same after a reload.
 */
export async function runQuantization(batchSize = 8, resumeFrom?: Extract<PendingRun, { kind: 'quantize' }>): Promise<void> {
  const client = engineClient(), spec = resumeFrom?.spec ?? currentSpec(), s = useStudio.getState();
  if (!client || !spec || s.quantization.running) return;
  const input = resumeFrom ? { calibSize: resumeFrom.calibSize, settings: resumeFrom.settings, problem: null } : quantizeInput(s);
  if (input.problem !== null) { patch('quantization', { error: { code: 'usage', message: input.problem } }); return; }
  const { calibSize, settings } = input, generation = s.quantization.generation;
  if (resumeFrom) batchSize = resumeFrom.batchSize;
  const current = () => useStudio.getState().quantization.generation === generation;
  patch('quantization', { running: true, phase: 'starting', done: 0, total: 0, error: null, notice: null });
  // A new optimisation starts with empty charts (a resumed one keeps the finished modules' curves).
  if (settings.asmo && !resumeFrom?.resume.asmo) {
    useStudio.setState({ asmo: { ...initialAsmoLive, status: 'running', label: `${runLabel(settings)} ${bitsLabel(settings)}`, iters: settings.asmo.iters } });
  } else if (settings.asmo) {
    patch('asmo', { status: 'running', paused: false });
  }
  const tracker = new PendingRunTracker(resumeFrom ?? {
    kind: 'quantize', label: `${runLabel(settings)} ${bitsLabel(settings)}`, batchSize, spec, calibSize, settings, resume: {}, startedAt: new Date().toISOString(),
  });
  let interrupted = false;
  try {
    const r = await withRecovery('the quantization run', () => {
      const run = engineClient()!.quantize(workerImages(), spec, batchSize, calibSize, settings,
        (done, total, phase) => patch('quantization', { done, total, phase: phase ?? '' }), {
          onAsmoEvent: (e) => { if (current()) patch('asmo', applyAsmoEvent(useStudio.getState().asmo, e)); },
          resume: tracker.run.resume, onCheckpoint: (c) => tracker.apply(c), onNotice: (notice) => patch('quantization', { notice }),
        });
      running = run;
      return run.done;
    }, {
      onRecovering: () => patch('quantization', { phase: 'GPU device lost: restarting it, then resuming' }),
      resumePoint: () => resumePoint(tracker.run.resume) ?? 'the start (calibration)',
    });
    const q = useStudio.getState().quantization;
    if (settings.asmo && current()) patch('asmo', { status: 'done', paused: false });
    // The model or images changed meanwhile: the result belongs to neither.
    if (q.generation !== generation) { patch('quantization', { running: false }); return; }
    const id = Math.max(0, ...q.runs.map((x) => x.id)) + 1;
    const evalSet = JSON.stringify({ generation, calibSize, evalImages: r.evalImages, spec });
    patch('quantization', {
      running: false, selected: id,
      runs: [...q.runs, {
        id, label: runLabel(r.settings), settings: r.settings, calibImages: r.calibImages, evalImages: r.evalImages, evalSet,
        fp32: r.fp32, quantized: r.quantized, seconds: r.timings.totalSeconds, timings: r.timings, backend: r.backend,
        sites: r.sites, params: r.params, skipped: r.skipped, ...(r.asmo ? { asmo: r.asmo } : {}),
        spec, calibNames: r.calibNames, predictions: r.predictions, finishedAt: new Date().toISOString(),
      }],
    });
  } catch (e) {
    const stale = !current(), info = asInfo(e);
    interrupted = info.code === 'device-lost' && !stale;
    patch('quantization', { running: false, error: stale ? null : info });
    // The finished modules' curves, the interrupted module's points and the accuracy so far stay on screen.
    if (settings.asmo && !stale) patch('asmo', { status: info.code === 'cancelled' ? 'cancelled' : 'failed', paused: false });
  } finally {
    running = null;
    // A run stopped by device losses can still be resumed from its checkpoint; any other end forgets it.
    if (interrupted) keepInterrupted(tracker.run);
    else await tracker.end();
  }
}

/** Cancels the running quantization, or the running evaluation of a file's quantizers. */
export function cancelQuantization(): void {
  running?.cancel();
  cancelFileEvaluation();
}

/** Holds the running optimisation between two steps, or lets it go on (only while it optimises: calibration and evaluation do not pause). */
export function pauseQuantization(paused: boolean): void {
  const st = useStudio.getState();
  if (!running || st.asmo.status !== 'running' || st.quantization.phase !== 'optimising') return;
  running.pause(paused);
  patch('asmo', { paused });
}
