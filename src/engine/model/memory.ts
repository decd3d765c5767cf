/**
 * GPU memory arithmetic of the runners, without GPU code (the page imports it to show memory plans).
 */
import { OutOfMemoryError } from '../errors.ts';
import type { ViTConfig } from '../vit/description.ts';

/** The sizes memory depends on (a ViTConfig, or the page's ModelSummary). */
export type MemoryShape = Pick<ViTConfig, 'tokens' | 'dim' | 'heads' | 'mlpDim'>;

/** Scratch budget per chunk; GPUs have far more, but browsers kill tabs that take too much. */
export const DEFAULT_ACTIVATION_BUDGET = 512 * 2 ** 20;

/** Bytes one image needs in one block, and its largest single buffer (which must fit one binding). */
export function activationBytesPerImage(c: MemoryShape): { block: number; largest: number } {
  const n = c.tokens, f = 4;
  const probs = c.heads * n * n * f, fc1 = n * c.mlpDim * f, qkv = n * 3 * c.dim * f, tok = n * c.dim * f;
  return { block: 5 * tok + qkv + probs + fc1, largest: Math.max(probs, fc1, qkv) };
}

/** The largest batch one chunk may hold: every buffer under `maxBindingBytes`, scratch under `budget`. */
export function maxChunkImages(c: MemoryShape, maxBindingBytes: number, budget = DEFAULT_ACTIVATION_BUDGET): number {
  const need = activationBytesPerImage(c);
  const chunk = Math.min(Math.floor(maxBindingBytes / need.largest), Math.floor(budget / (2 * need.block)));
  if (chunk < 1) {
    throw new OutOfMemoryError(`One image of this model needs ${(2 * need.block / 2 ** 20).toFixed(0)} MiB of GPU scratch memory, more than this device allows (${(maxBindingBytes / 2 ** 20).toFixed(0)} MiB per buffer).`);
  }
  return chunk;
}

