/**
 * Entry point for turning file bytes into pixels. Image files are untrusted input: the format comes
 * from the magic bytes (extensions lie), dimensions and the amount of compressed data are checked
 * from the header before any pixel memory is allocated, and every failure is a BadImageError whose
 * message starts with the file name and says why.
 */
import { AdfqError, BadImageError } from '../errors.ts';
import type { DecodedImage } from './decoded-image.ts';
import { decodeJpeg } from './decode-jpeg.ts';
import { decodePng } from './decode-png.ts';
import { jpegMinScanBytes, readJpegHeader } from './jpeg-header.ts';
import { pngRawSize, readPngHeader } from './png-header.ts';

/** Refuse images above this many pixels (a 50 MP RGB image already needs 150 MB decoded). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface DecodeOptions {
  maxPixels?: number;
}

export type ImageFormat = 'jpeg' | 'png';

/** Formats we recognise only to name them in the error (animated GIF/WebP included: we take no frames from them). */
const OTHER_FORMATS: Array<[string, (b: Uint8Array) => boolean]> = [
  ['GIF', (b) => ascii(b, 0, 4) === 'GIF8'],
  ['WebP', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP'],
  ['BMP', (b) => ascii(b, 0, 2) === 'BM'],
  ['TIFF', (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*'],
  ['HEIC/AVIF', (b) => ascii(b, 4, 8) === 'ftyp' && /^(avi[fs]|hei[cxsm]|hev[cx]|mif1|msf1)$/.test(ascii(b, 8, 12))],
  ['MP4/MOV', (b) => ascii(b, 4, 8) === 'ftyp'], // video: the same ISO-BMFF box with other brands
  ['MNG/JNG', (b) => (b[0] === 0x8a && ascii(b, 1, 4) === 'MNG') || (b[0] === 0x8b && ascii(b, 1, 4) === 'JNG')],
  ['JPEG 2000', (b) => ascii(b, 4, 8) === 'jP  ' || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)],
  ['JPEG XL', (b) => (b[0] === 0xff && b[1] === 0x0a) || ascii(b, 4, 8) === 'JXL '],
  ['ICO', (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0 && b[4] + b[5] > 0],
  ['PSD', (b) => ascii(b, 0, 4) === '8BPS'],
  ['QOI', (b) => ascii(b, 0, 4) === 'qoif'],
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
  try {
    return decodeChecked(bytes, name, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  } catch (e) {
    if (e instanceof AdfqError) throw e;
    // Last line of defence for untrusted files: a decoder bug (or a failed allocation) on one image must
    // still be a typed, per-file error. tools/fuzz counts these as bugs by the 'unexpected' wording.
    throw new BadImageError(`${name}: cannot decode image (unexpected decoder failure: ${e instanceof Error ? e.message : String(e)}).`);
  }
}

function decodeChecked(bytes: Uint8Array, name: string, maxPixels: number): DecodedImage {
  if (bytes.length === 0) throw new BadImageError(`${name}: file is empty (0 bytes).`);
  const format = detectImageFormat(bytes);
  if (!format) throw new BadImageError(`${name}: ${unknownFormat(bytes)}`);
  if (format === 'jpeg') {
    const h = readJpegHeader(bytes, name);
    // A complete JPEG needs at least one bit per 8x8 block (2x margin kept).
    checkSize(name, h.width, h.height, maxPixels, h.scanBytes * 2, jpegMinScanBytes(h));
    return decodeJpeg(bytes, h, name, maxPixels);
  }
  const h = readPngHeader(bytes, name);
  // Deflate expands at most 1032x (2 bits for a 258-byte match).
  checkSize(name, h.width, h.height, maxPixels, h.idatBytes * 1032 + 1024, pngRawSize(h));
  return decodePng(bytes, h, name);
}

/**
 * Header checks made before any pixel memory exists: the pixel limit, and, since within that limit
 * a tiny file can still claim a huge image, `have` (the most data the compressed bytes can hold) must
 * reach `need` (the least a complete image of that size takes); below it is a bomb or a cut-off file.
 */
function checkSize(name: string, width: number, height: number, maxPixels: number, have: number, need: number): void {
  const size = `${width}x${height}`;
  if (width === 0 || height === 0) throw new BadImageError(`${name}: image has zero size (${size}).`);
  if (width * height > maxPixels) {
    throw new BadImageError(`${name}: ${size} is ${(width * height / 1e6).toFixed(1)} megapixels, above the ` +
      `${(maxPixels / 1e6).toFixed(0)} MP limit (protection against decompression bombs); downscale it first.`);
  }
  if (have < need) {
    throw new BadImageError(`${name}: the header says ${size} pixels but the file holds far too little compressed data for that ` +
      `(a decompression bomb or a damaged file); refused.`);
  }
}

/** The reason for a file that is neither PNG nor JPEG, naming what it is when we can tell. */
function unknownFormat(b: Uint8Array): string {
  const other = OTHER_FORMATS.find(([, test]) => test(b))?.[0];
  // Kept together: the short reason the issue asks for, and the older wording callers may match.
  if (other) return `format not supported (${other}); convert to JPEG or PNG.`;
  if (b[0] === 0x89 && ascii(b, 1, 4) === 'PNG') {
    return 'damaged PNG signature (typically a download or copy in text mode that rewrote line endings); fetch the file again in binary mode.';
  }
  const head = b.subarray(0, 512);
  const texty = head.every((v) => v === 9 || v === 10 || v === 13 || (v >= 32 && v !== 127));
  if (texty) {
    const html = /^\s*</.test(ascii(head, 0, head.length));
    return `not a PNG or JPEG file (unrecognised first bytes: it looks like ${html ? 'an HTML/XML page, e.g. a saved error page' : 'a text file'}).`;
  }
  return 'not a PNG or JPEG file (unrecognised first bytes).';
}
