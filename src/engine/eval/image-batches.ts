/**
 * Images → batches of model input, shared by evaluation and statistics. A bad image (BadImageError,
 * or a file that cannot be read) is skipped and listed with its reason; it never stops the run.
 * Other engine errors (a bad preprocessing spec, cancellation) are not about one image and would
 * otherwise skip every image with the same message, so they propagate. Cancellation is checked
 * before each image, so a cancel does not wait for a batch of large images to decode.
 */
import { AdfqError, BadImageError, CancelledError } from '../errors.ts';
import { imageBytesToTensor, type PreprocessSpec } from '../image/index.ts';

export interface ImageSource {
  name: string;
  label: number | null;
  load(): Promise<Uint8Array>;
}

export interface SkippedImage { name: string; reason: string }

export interface ImageBatch {
  pixels: Float32Array;
  /** The sources that decoded, in batch order. */
  kept: ImageSource[];
  /** Sources consumed so far (kept or skipped), for progress. */
  consumed: number;
}

/**
 * One source as model input, or null after listing it in `skipped`: a bad image (BadImageError) or a
 * file that cannot be read. Other engine errors propagate. The one rule for every decoding loop
 * (evaluation, statistics, calibration, ASMO's held-out images), in the studio and the CLI.
 */
export async function decodeSource(src: ImageSource, spec: PreprocessSpec, skipped: SkippedImage[]): Promise<Float32Array | null> {
  try {
    return imageBytesToTensor(await src.load(), src.name, spec);
  } catch (e) {
    if (e instanceof AdfqError && !(e instanceof BadImageError)) throw e;
    skipped.push({ name: src.name, reason: e instanceof BadImageError ? e.message : `could not be read (${String(e)})` });
    return null;
  }
}

/** Tensors of one image each, back to back: [n, C, S, S]. */
export function stackImages(tensors: Float32Array[], per: number): Float32Array {
  const pixels = new Float32Array(tensors.length * per);
  tensors.forEach((t, i) => pixels.set(t, i * per));
  return pixels;
}

/** Every source that decodes, as one tensor, with their names; the rest listed in `skipped` (calibration sets). */
export async function decodeAll(sources: ImageSource[], spec: PreprocessSpec): Promise<{ pixels: Float32Array; n: number; names: string[]; skipped: SkippedImage[] }> {
  const per = (spec.channels ?? 3) * spec.imageSize * spec.imageSize, tensors: Float32Array[] = [], names: string[] = [], skipped: SkippedImage[] = [];
  for (const src of sources) {
    const t = await decodeSource(src, spec, skipped);
    if (t) { tensors.push(t); names.push(src.name); }
  }
  return { pixels: stackImages(tensors, per), n: tensors.length, names, skipped };
}

export async function* imageBatches(sources: ImageSource[], spec: PreprocessSpec, batchSize: number,
                                    skipped: SkippedImage[], signal?: AbortSignal): AsyncGenerator<ImageBatch> {
  const per = (spec.channels ?? 3) * spec.imageSize * spec.imageSize;
  for (let start = 0; start < sources.length; start += batchSize) {
    if (signal?.aborted) throw new CancelledError();
    const kept: ImageSource[] = [], tensors: Float32Array[] = [];
    for (const src of sources.slice(start, start + batchSize)) {
      if (signal?.aborted) throw new CancelledError();
      const t = await decodeSource(src, spec, skipped);
      if (t) { tensors.push(t); kept.push(src); }
    }
    yield { pixels: stackImages(tensors, per), kept, consumed: Math.min(start + batchSize, sources.length) };
  }
}
