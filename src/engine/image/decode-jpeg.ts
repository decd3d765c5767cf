/**
 * JPEG → DecodedImage through jpeg-js (pure JS, so browser and Node decode identically).
 * jpeg-js upsamples chroma by repetition and uses its own IDCT; we redo the upsampling and colour
 * conversion like libjpeg-turbo (jpeg-color.ts), so only IDCT rounding still differs from PIL's pixels
 * (see tools/preprocess/ for the measured effect).
 */
import { decode as jpegDecode } from 'jpeg-js';
import { BadImageError } from '../errors.ts';
import type { DecodedImage } from './decoded-image.ts';
import type { JpegHeader } from './jpeg-header.ts';
import { chromaRatio, yccToRgbLibjpeg } from './jpeg-color.ts';
import { libraryError } from './library-error.ts';

/** Colour model as libjpeg decides it (jdapimin.c default_decompress_parms): JFIF, then Adobe, then component ids. */
function isYCbCr(h: JpegHeader): boolean {
  if (h.jfif) return true;
  if (h.adobeTransform !== null) return h.adobeTransform !== 0;
  const [a, b, c] = h.componentIds;
  return !(a === 0x52 && b === 0x47 && c === 0x42); // 'R','G','B' ids mean untransformed RGB
}

export function decodeJpeg(bytes: Uint8Array, h: JpegHeader, name: string, maxPixels: number): DecodedImage {
  if (h.components !== 1 && h.components !== 3 && h.components !== 4) {
    throw new BadImageError(`${name}: JPEG with ${h.components} colour components is not supported; convert it to RGB.`);
  }
  if (h.components === 4 && h.adobeTransform === null) {
    // jpeg-js only knows Adobe (Photoshop, inverted) CMYK; plain CMYK would come out with wrong colours.
    throw new BadImageError(`${name}: CMYK JPEG without an Adobe marker is not supported; convert it to RGB.`);
  }
  // For YCbCr we take raw samples and redo upsampling and colour conversion as libjpeg-turbo does.
  const ratio = h.components === 3 && isYCbCr(h) ? chromaRatio(h.sampling) : null;
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpegDecode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Adobe transform 0 means RGB/CMYK as stored; jpeg-js would otherwise assume YCbCr for 3 components.
      colorTransform: h.components === 4 ? h.adobeTransform !== 0 : isYCbCr(h) && !ratio,
      tolerantDecoding: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 24) / 1e6)),
    });
  } catch (e) {
    throw new BadImageError(`${name}: cannot decode JPEG (${libraryError(e)}).`);
  }
  const { width, height, data } = raw;
  if (ratio) return { width, height, channels: 3, data: yccToRgbLibjpeg(data, width, height, ratio[0], ratio[1]) };
  if (h.components !== 1) return { width, height, channels: 3, data };
  // jpeg-js replicates gray into RGB; keep one channel so 1-channel models see the stored values.
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = data[3 * i];
  return { width, height, channels: 1, data: gray };
}
