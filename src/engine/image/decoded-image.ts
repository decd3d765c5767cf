/**
 * The one in-memory image type of the pipeline: 8-bit, interleaved, 1 (gray) or 3 (RGB) channels.
 * Alpha never gets this far: decoders drop it, as PIL's `convert('RGB')` does (no compositing), so
 * our pixels match what a torchvision pipeline sees.
 */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** `height * width * channels` bytes, row-major, channels interleaved. */
  data: Uint8Array;
}

/**
 * Converts to the channel count a model wants. Gray → RGB replicates; RGB → gray uses PIL's
 * `convert('L')` integer formula (ITU-R 601-2 luma, 16-bit fixed point) so results are bit-exact.
 */
export function toChannels(img: DecodedImage, channels: 1 | 3): DecodedImage {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const src = img.data;
  if (channels === 3) {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[i];
    return { width: img.width, height: img.height, channels: 3, data: out };
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = (src[3 * i] * 19595 + src[3 * i + 1] * 38470 + src[3 * i + 2] * 7471 + 0x8000) >>> 16;
  }
  return { width: img.width, height: img.height, channels: 1, data: out };
}
