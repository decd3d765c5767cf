/** What the module-wise optimisation will hold on the GPU for the chosen images and batch, shown before Run (engine/asmo/memory-plan.ts). */
import { asmoMemoryPlan } from '../../engine/asmo/memory-plan.ts';
import { quantizeInput } from '../quantize-actions.ts';
import { useStudio } from '../store.ts';

/** The reconstruction images and mini-batch of a valid ASMO form; null otherwise. */
function asmoShape(s: Parameters<typeof quantizeInput>[0]): { images: number; batch: number } | null {
  const i = quantizeInput(s);
  return i.problem === null && i.settings.asmo ? { images: i.calibSize, batch: i.settings.asmo.batch } : null;
}

export function AsmoMemory() {
  const summary = useStudio((s) => s.model.loaded?.summary ?? null);
  const maxBufferSize = useStudio((s) => s.engine.maxBufferBytes);
  const images = useStudio((s) => asmoShape(s)?.images ?? null);
  const batch = useStudio((s) => asmoShape(s)?.batch ?? null);
  if (!summary || !maxBufferSize || !images || !batch) return null;
  let text: string;
  try {
    text = asmoMemoryPlan(summary, images, batch, { maxBufferSize }).summary;
  } catch (e) {
    text = (e as Error).message;
  }
  return <p className="muted" data-testid="asmo-memory">{text}</p>;
}
