/** What calibration will hold on the GPU for the chosen size, shown before Run (engine/quant/memory-plan.ts). */
import { CALIB_INIT_IMAGES, calibrationMemoryPlan } from '../../engine/quant/memory-plan.ts';
import { quantizeInput } from '../quantize-actions.ts';
import { useStudio } from '../store.ts';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export function CalibrationMemory() {
  const summary = useStudio((s) => s.model.loaded?.summary ?? null);
  const maxBinding = useStudio((s) => s.engine.maxBindingBytes);
  const calibSize = useStudio((s) => { const i = quantizeInput(s); return i.problem === null ? i.calibSize : null; });
  if (!summary || !maxBinding || !calibSize) return null;
  let text: string;
  try {
    const p = calibrationMemoryPlan(summary, Math.min(calibSize, CALIB_INIT_IMAGES), maxBinding);
    text = `Calibration memory: ${p.images} image(s) in ${p.chunks} chunk(s) of ${p.chunk}; about ${mib(p.peakBytes)} of GPU memory at peak `
      + `(block inputs ${mib(p.blockInputBytes)}, largest tensor ${mib(p.largestSiteBytes)}).`
      + (calibSize > CALIB_INIT_IMAGES ? ` Quantizers are fitted on the first ${CALIB_INIT_IMAGES} calibration images.` : '');
  } catch (e) {
    text = (e as Error).message;
  }
  return <p className="muted" data-testid="calib-memory">{text}</p>;
}
