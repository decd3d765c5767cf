/**
 * Entry point for turning file bytes into pixels. The format comes from the magic bytes (extensions
 * lie), dimensions are checked from the header before any pixel memory is allocated, and every
 * failure is a BadImageError whose message starts with the file name.
 */
import { BadImageError } from '../errors.ts';
import type { DecodedImage } from './decoded-image.ts';
import { decodeJpeg } from './decode-jpeg.ts';
import { decodePng } from './decode-png.ts';
import { readJpegHeader } from './jpeg-header.ts';
import { readPngHeader } from './png-header.ts';

/** Refuse images above this many pixels (a 50 MP RGB image already needs 150 MB decoded). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface DecodeOptions {
  maxPixels?: number;
}

export type ImageFormat = 'jpeg' | 'png';

/** Formats we recognise only to name them in the error. */
const OTHER_FORMATS: Array<[string, (b: Uint8Array) => boolean]> = [
  ['GIF', (b) => ascii(b, 0, 4) === 'GIF8'],
  ['WebP', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP'],
  ['BMP', (b) => ascii(b, 0, 2) === 'BM'],
  ['TIFF', (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*'],
  ['HEIC/AVIF', (b) => ascii(b, 4, 8) === 'ftyp'],
  ['PDF', (b) => ascii(b, 0, 4) === '%PDF'],
];

function ascii(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

/** 'jpeg' | 'png' from the first bytes, or null for anything else. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  return null;
}

export function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}): DecodedImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new BadImageError(`${name}: file is empty (0 bytes).`);
  const format = detectImageFormat(bytes);
  if (!format) {
    const other = OTHER_FORMATS.find(([, test]) => test(bytes))?.[0];
    throw new BadImageError(other
      ? `${name}: ${other} images are not supported; convert it to PNG or JPEG.`
      : `${name}: not a PNG or JPEG file (unrecognised first bytes).`);
  }
  const header = format === 'jpeg' ? readJpegHeader(bytes, name) : readPngHeader(bytes, name);
  const { width, height } = header;
  if (width === 0 || height === 0) throw new BadImageError(`${name}: image has zero size (${width}x${height}).`);
  if (width * height > maxPixels) {
    throw new BadImageError(`${name}: ${width}x${height} is ${(width * height / 1e6).toFixed(1)} megapixels, above the ` +
      `${(maxPixels / 1e6).toFixed(0)} MP limit (protection against decompression bombs); downscale it first.`);
  }
  return format === 'jpeg'
    ? decodeJpeg(bytes, header as ReturnType<typeof readJpegHeader>, name, maxPixels)
    : decodePng(bytes, header as ReturnType<typeof readPngHeader>, name);
}
