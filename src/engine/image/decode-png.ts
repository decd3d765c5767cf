/**
 * PNG → DecodedImage through fast-png. Every colour type and depth becomes 8-bit gray or RGB:
 * palettes are expanded, alpha (an alpha channel or tRNS) is dropped without compositing, like
 * PIL's `convert('RGB')`, and 16-bit samples keep their high byte (PIL's "RGB;16B" unpacker).
 * Exception: PIL turns 16-bit gray into mode "I" and `convert('RGB')` then clips it to 255
 * (near-white images); we take the high byte instead, which is what the image shows.
 *
 * Before fast-png sees the file we check every CRC and inflate the IDAT stream once with a hard
 * output limit, because fast-png inflates without any (a 1x1 PNG can hold gigabytes of zlib zeros)
 * and pads short data with zeros instead of failing.
 */
import { decode as pngDecode } from 'fast-png';
import { Unzlib } from 'fflate';
import { BadImageError } from '../errors.ts';
import type { DecodedImage } from './decoded-image.ts';
import { libraryError } from './library-error.ts';
import { pngChunkCrcOk, pngRawSize, type PngHeader } from './png-header.ts';

/** Extra inflated bytes tolerated after the image data (libpng and PIL ignore them too). */
const SLACK_BYTES = 65536;
/** Compressed bytes pushed to the inflater at once: bounds how far one push can overshoot (deflate: ≤ 1032x). */
const PUSH_BYTES = 4096;

export function decodePng(bytes: Uint8Array, h: PngHeader, name: string): DecodedImage {
  if (h.interlaced && h.bitDepth < 8) {
    // fast-png 8 de-interlaces sub-byte pixels as if they were whole bytes, giving garbage.
    throw new BadImageError(`${name}: interlaced PNG with ${h.bitDepth}-bit pixels is not supported; re-save it without interlacing.`);
  }
  for (const c of h.chunks) {
    if (!pngChunkCrcOk(bytes, c)) {
      throw new BadImageError(`${name}: cannot decode PNG (CRC mismatch in the ${c.type} chunk at byte ${c.start}: the file is damaged).`);
    }
  }
  checkImageData(bytes, h, name);
  let png: ReturnType<typeof pngDecode>;
  try {
    png = pngDecode(essentialChunks(bytes, h), { checkCrc: false });
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause;
    throw new BadImageError(`${name}: cannot decode PNG (${libraryError(e)}${cause ? ` ${cause.message}` : ''}).`);
  }
  const { width, height } = h;
  const n = width * height;
  const src = png.data;
  if (h.colorType === 3) return expandPalette(png.data as Uint8Array, png.palette ?? [], h, name);
  if (h.bitDepth < 8) return { width, height, channels: 1, data: unpackGray(src as Uint8Array, h) };
  const shift = h.bitDepth === 16 ? 8 : 0;
  const inCh = png.channels;
  if (src.length < n * inCh) throw new BadImageError(`${name}: PNG image data is shorter than its ${width}x${height} size.`);
  const outCh: 1 | 3 = inCh >= 3 ? 3 : 1;
  const out = new Uint8Array(n * outCh);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < outCh; c++) out[i * outCh + c] = src[i * inCh + c] >> shift;
  }
  return { width, height, channels: outCh, data: out };
}

/** Inflates the IDAT stream, counting bytes only, and refuses data that is short, broken or far too long. */
function checkImageData(bytes: Uint8Array, h: PngHeader, name: string): void {
  const expected = pngRawSize(h);
  const limit = expected + SLACK_BYTES;
  const size = `${h.width}x${h.height}`;
  let total = 0;
  const inflater = new Unzlib((chunk) => {
    total += chunk.length;
    if (total > limit) {
      throw new BadImageError(`${name}: PNG image data inflates to more than the ${expected} bytes its ${size} header needs ` +
        `(a decompression bomb or a damaged file); refused.`);
    }
  });
  try {
    for (const c of h.chunks) {
      if (c.type !== 'IDAT') continue;
      const end = c.start + 8 + c.length;
      for (let i = c.start + 8; i < end; i += PUSH_BYTES) inflater.push(bytes.subarray(i, Math.min(end, i + PUSH_BYTES)));
    }
    inflater.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof BadImageError) throw e;
    throw new BadImageError(`${name}: cannot decode PNG (compressed image data is corrupt or cut short: ${(e as Error).message}).`);
  }
  if (total < expected) {
    throw new BadImageError(`${name}: PNG image data is shorter than its ${size} size (${total} of ${expected} bytes); the file is truncated or damaged.`);
  }
}

/**
 * The file reduced to IHDR, PLTE, IDAT… and IEND, so fast-png never parses ancillary chunks. IEND is
 * written empty: fast-png rejects one with a payload, which libpng and PIL ignore.
 */
function essentialChunks(bytes: Uint8Array, h: PngHeader): Uint8Array {
  const kept = h.chunks.filter((c) => c.type !== 'IEND');
  const out = new Uint8Array(8 + kept.reduce((s, c) => s + 12 + c.length, 0) + IEND.length);
  out.set(bytes.subarray(0, 8));
  let o = 8;
  for (const c of kept) {
    out.set(bytes.subarray(c.start, c.start + 12 + c.length), o);
    o += 12 + c.length;
  }
  out.set(IEND, o);
  return out;
}

const IEND = new Uint8Array([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** Sub-byte gray: rows are packed MSB first and padded to a byte; scale to 0..255 like PIL ("L;2" → ×85). */
function unpackGray(src: Uint8Array, h: PngHeader): Uint8Array {
  const d = h.bitDepth;
  const scale = 255 / ((1 << d) - 1);
  const idx = unpackIndices(src, h);
  for (let i = 0; i < idx.length; i++) idx[i] *= scale;
  return idx;
}

function unpackIndices(src: Uint8Array, h: PngHeader): Uint8Array {
  const { width, height, bitDepth: d } = h;
  if (d === 8) return src.slice(0, width * height);
  const stride = Math.ceil((width * d) / 8);
  const mask = (1 << d) - 1;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * d;
      out[y * width + x] = (src[y * stride + (bit >> 3)] >> (8 - d - (bit & 7))) & mask;
    }
  }
  return out;
}

function expandPalette(src: Uint8Array, palette: number[][], h: PngHeader, name: string): DecodedImage {
  const idx = unpackIndices(src, h);
  const out = new Uint8Array(idx.length * 3);
  for (let i = 0; i < idx.length; i++) {
    const colour = palette[idx[i]];
    if (!colour) throw new BadImageError(`${name}: PNG pixel uses palette entry ${idx[i]} but the palette has ${palette.length}.`);
    out[3 * i] = colour[0]; out[3 * i + 1] = colour[1]; out[3 * i + 2] = colour[2];
  }
  return { width: h.width, height: h.height, channels: 3, data: out };
}
