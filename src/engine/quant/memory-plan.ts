/**
 * What calibration (calibrate-gpu.ts) will hold on the GPU, computed before anything is allocated; no GPU
 * code, so the page can show it next to the Run button.
 */
import { activationBytesPerImage, maxChunkImages } from '../model/memory.ts';
import type { ViTConfig } from '../vit/description.ts';

/** §5.2: activation quantizers are initialised from the first 256 calibration inputs. */
export const CALIB_INIT_IMAGES = 256;

/** The sizes the plan depends on (a ViTConfig, or the page's ModelSummary). */
export type PlanShape = Pick<ViTConfig, 'tokens' | 'dim' | 'heads' | 'mlpDim' | 'inChannels' | 'patch' | 'numClasses' | 'depth'>;

export interface CalibrationMemoryPlan {
  images: number;
  /** Images per chunk (bounded by maxStorageBufferBindingSize and the activation budget) and chunk count. */
  chunk: number;
  chunks: number;
  /** Block inputs of every image, kept for the whole run (twice while a block's outputs are made). */
  blockInputBytes: number;
  /** The largest site's activations over every image (attention probabilities or the MLP hidden). */
  largestSiteBytes: number;
  /** One chunk's scratch while a block runs. */
  chunkScratchBytes: number;
  weightBytes: number;
  /** The searches' fixed buffers, whatever the model (65,536-bin sums, radix digit counts, their read-back staging). */
  searchScratchBytes: number;
  /** Upper bound of GPU memory in use at once. */
  peakBytes: number;
  maxBindingBytes: number;
}

/**
 * The searches' own buffers, independent of the model: measured at most 2.4 MB above the rest of the plan
 * (demo model, 3 to 12 images, tests/gpu-oom.test.ts's pool).
 */
export const SEARCH_SCRATCH_BYTES = 3 * 2 ** 20;

/** The plan for `images` calibration images on a device with `maxBindingBytes` per buffer. */
export function calibrationMemoryPlan(c: PlanShape, images: number, maxBindingBytes: number): CalibrationMemoryPlan {
  const need = activationBytesPerImage(c), chunk = Math.min(maxChunkImages(c, maxBindingBytes), images);
  const tokBytes = c.tokens * c.dim * 4;
  const blockInputBytes = images * tokBytes;
  const largestSiteBytes = images * Math.max(c.heads * c.tokens * c.tokens, c.tokens * c.mlpDim) * 4;
  const chunkScratchBytes = 2 * need.block * Math.min(chunk, images);
  const weightBytes = 4 * (c.inChannels * c.patch ** 2 * c.dim + c.dim * c.numClasses + c.depth * (4 * c.dim ** 2 + 2 * c.dim * c.mlpDim));
  return {
    images, chunk, chunks: Math.ceil(images / chunk), blockInputBytes, largestSiteBytes, chunkScratchBytes, weightBytes,
    searchScratchBytes: SEARCH_SCRATCH_BYTES,
    peakBytes: 2 * blockInputBytes + 2 * largestSiteBytes + chunkScratchBytes + weightBytes + SEARCH_SCRATCH_BYTES, maxBindingBytes,
  };
}

