/**
 * The held-out images of ASMO's accuracy-so-far curve: the first `count` labelled images that decode, as
 * one tensor with their labels. An image that cannot be read is passed over (the final evaluation
 * reports it as skipped), so one bad file never stops an optimisation. Shared by the CLI and the worker.
 */
import { decodeSource, stackImages, type ImageSource, type SkippedImage } from '../eval/image-batches.ts';
import type { PreprocessSpec } from '../image/index.ts';
import type { HeldOutImages } from './optimize.ts';

export async function decodeHeldOut(sources: ImageSource[], count: number, spec: PreprocessSpec): Promise<HeldOutImages | null> {
  const tensors: Float32Array[] = [], labels: number[] = [], unread: SkippedImage[] = [];
  for (const s of sources) {
    if (tensors.length >= count) break;
    if (s.label === null) continue;
    const t = await decodeSource(s, spec, unread);
    if (t) { tensors.push(t); labels.push(s.label); }
  }
  if (!tensors.length) return null;
  return { pixels: stackImages(tensors, tensors[0].length), labels: Int32Array.from(labels), count: tensors.length };
}
