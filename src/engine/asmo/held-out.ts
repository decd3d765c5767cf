/**
 * The held-out images of ASMO's accuracy-so-far curve: the first `count` labelled images that decode, as
 * one tensor with their labels. An image that cannot be read is passed over (the final evaluation
 * reports it as skipped), so one bad file never stops an optimisation. Shared by the CLI and the worker.
 */
import { BadImageError } from '../errors.ts';
import type { ImageSource } from '../eval/image-batches.ts';
import { imageBytesToTensor, type PreprocessSpec } from '../image/index.ts';
import type { HeldOutImages } from './optimize.ts';

export async function decodeHeldOut(sources: ImageSource[], count: number, spec: PreprocessSpec): Promise<HeldOutImages | null> {
  const tensors: Float32Array[] = [], labels: number[] = [];
  for (const s of sources) {
    if (tensors.length >= count) break;
    if (s.label === null) continue;
    try {
      tensors.push(imageBytesToTensor(await s.load(), s.name, spec));
      labels.push(s.label);
    } catch (e) {
      if (!(e instanceof BadImageError)) throw e;
    }
  }
  if (!tensors.length) return null;
  const per = tensors[0].length, pixels = new Float32Array(tensors.length * per);
  tensors.forEach((t, i) => pixels.set(t, i * per));
  return { pixels, labels: Int32Array.from(labels), count: tensors.length };
}
