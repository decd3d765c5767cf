/**
 * The quantization panel's actions: check the form against the loaded model and images, run a
 * quantization in the worker, keep the finished runs. A failed or cancelled run leaves earlier runs alone.
 */
import { DEFAULT_QUANTIZE_SETTINGS, type QuantizeSettings } from '../engine/quant/settings.ts';
import { splitImages } from '../worker/split-images.ts';
import { asInfo, currentSpec, engineClient, workerImages } from './actions.ts';
import { runLabel } from './quant-labels.ts';
import { patch, useStudio, type QuantForm, type StudioState } from './store.ts';

let cancelRunning: (() => void) | null = null;

export const defaultCalibSize = (images: number) => Math.max(1, Math.min(32, images - 1));

export type QuantInput = { calibSize: number; settings: QuantizeSettings; problem: null } | { problem: string };

/** The form checked against the page's model and images: what to run, or a sentence saying what to fix. */
export function quantizeInput(s: Pick<StudioState, 'model' | 'data' | 'quantization'>): QuantInput {
  const f = s.quantization.form, images = s.data.images, total = images.length;
  if (!s.model.loaded) return { problem: 'Load a model first: drop an .onnx ViT on the page (or wait for the demo).' };
  if (!total) return { problem: 'There are no images: drop a folder of class folders; some calibrate the quantizers, the rest are evaluated.' };
  if (total < 2) return { problem: 'At least two images are needed: one to calibrate on and one to evaluate.' };
  if (!images.some((im) => im.label !== null)) {
    return { problem: 'None of the images has a label, so accuracy cannot be measured. Put them in class folders (or name them by class).' };
  }
  const raw = f.calibSize.trim(), calibSize = raw === '' ? defaultCalibSize(total) : Number(raw);
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
  const d = DEFAULT_QUANTIZE_SETTINGS;
  return {
    calibSize, problem: null,
    settings: {
      method: f.method, bitsW: f.bitsW, bitsA: f.bitsA,
      ablation: adfq ? { ppoqQkv: f.noPpoq, ppoqFc1: f.noPpoq, slq: f.noSlq, logProbs: f.noLog } : {},
      tauQkv: ppoq ? Number(f.tauQkv) : d.tauQkv, tauFc1: ppoq ? Number(f.tauFc1) : d.tauFc1,
    },
  };
}

export function setQuantForm(v: Partial<QuantForm>): void {
  patch('quantization', { form: { ...useStudio.getState().quantization.form, ...v } });
}

export function selectRun(id: number | null): void { patch('quantization', { selected: id }); }

export function setLevelToken(t: number | 'all'): void { patch('quantization', { levelToken: t }); }

export async function runQuantization(batchSize = 8): Promise<void> {
  const client = engineClient(), spec = currentSpec(), s = useStudio.getState();
  if (!client || !spec || s.quantization.running) return;
  const input = quantizeInput(s);
  if (input.problem !== null) { patch('quantization', { error: { code: 'usage', message: input.problem } }); return; }
  const { calibSize, settings } = input, generation = s.quantization.generation;
  patch('quantization', { running: true, phase: 'starting', done: 0, total: 0, error: null });
  const run = client.quantize(workerImages(), spec, batchSize, calibSize, settings,
    (done, total, phase) => patch('quantization', { done, total, phase: phase ?? '' }));
  cancelRunning = run.cancel;
  try {
    const r = await run.done;
    const q = useStudio.getState().quantization;
    // The model or images changed meanwhile: the result belongs to neither.
    if (q.generation !== generation) { patch('quantization', { running: false }); return; }
    const id = Math.max(0, ...q.runs.map((x) => x.id)) + 1;
    const evalSet = JSON.stringify({ generation, calibSize, evalImages: r.evalImages, spec });
    patch('quantization', {
      running: false, selected: id,
      runs: [...q.runs, {
        id, label: runLabel(r.settings), settings: r.settings, calibImages: r.calibImages, evalImages: r.evalImages, evalSet,
        fp32: r.fp32, quantized: r.quantized, seconds: r.timings.totalSeconds, timings: r.timings, backend: r.backend,
        sites: r.sites, params: r.params, skipped: r.skipped,
      }],
    });
  } catch (e) {
    const stale = useStudio.getState().quantization.generation !== generation;
    patch('quantization', { running: false, error: stale ? null : asInfo(e) });
  } finally {
    cancelRunning = null;
  }
}

export function cancelQuantization(): void {
  cancelRunning?.();
}
