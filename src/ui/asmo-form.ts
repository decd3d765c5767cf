/**
 * ASMO's part of the quantization form: its defaults in the studio and the typed strings checked into
 * the engine's AsmoSettings (checkAsmoSettings' sentences are shown as they are).
 */
import { checkAsmoSettings, DEFAULT_ASMO_CALIB_IMAGES, DEFAULT_ASMO_SETTINGS, type AsmoSettings } from '../engine/asmo/settings.ts';
import type { AsmoForm, AsmoNumberField } from './store.ts';

/**
 * Steps per module preselected on a software adapter (a CPU rasteriser such as SwiftShader), where the
 * spec's 3000 steps for every module would take hours even on the demo model. The form says so.
 */
export const SOFTWARE_ASMO_ITERS = 200;

export const defaultAsmoIters = (isSoftware: boolean) => (isSoftware ? SOFTWARE_ASMO_ITERS : DEFAULT_ASMO_SETTINGS.iters);

/**
 * With ASMO the calibration split is also the reconstruction set: the paper's 1024 images (§5.2), or half
 * of the images when there are fewer, so that the other half is still evaluated.
 */
export const defaultAsmoCalibSize = (images: number) => Math.max(1, Math.min(DEFAULT_ASMO_CALIB_IMAGES, Math.floor(images / 2)));

/** The form's number fields in the words of checkAsmoSettings' messages. */
export const ASMO_FIELD_NAMES: Record<AsmoNumberField, string> = {
  iters: 'iterations', batch: 'batch size', lrWeights: 'weight learning rate', lrSteps: 'step-size learning rate',
  roundWeight: 'rounding weight λ', betaStart: 'β start', betaEnd: 'β end', warmup: 'warm-up', klTemperature: 'attention temperature',
  klWeight: 'attention-term weight', seed: 'seed',
};

export type AsmoInput = { settings: AsmoSettings; problem: null } | { problem: string };

/** The ASMO form as settings, or the sentence saying what to fix. '' in a number field is its default. */
export function asmoSettings(f: AsmoForm, isSoftware: boolean): AsmoInput {
  const values = {} as Record<AsmoNumberField, number>;
  for (const key of Object.keys(ASMO_FIELD_NAMES) as AsmoNumberField[]) {
    const raw = f[key].trim();
    if (raw === '') {
      values[key] = key === 'iters' ? defaultAsmoIters(isSoftware) : DEFAULT_ASMO_SETTINGS[key];
      continue;
    }
    const v = Number(raw);
    if (!Number.isFinite(v)) return { problem: `ASMO ${ASMO_FIELD_NAMES[key]} must be a number, not '${raw}'.` };
    values[key] = v;
  }
  const settings: AsmoSettings = {
    ...DEFAULT_ASMO_SETTINGS, ...values, modules: { ...f.modules }, gradients: f.gradients, klAxis: f.klAxis,
  };
  try {
    checkAsmoSettings(settings);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  return { settings, problem: null };
}
