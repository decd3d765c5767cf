/**
 * PNG → DecodedImage through fast-png. Every colour type and depth becomes 8-bit gray or RGB:
 * palettes are expanded, alpha (an alpha channel or tRNS) is dropped without compositing, like
 * PIL's `convert('RGB')`, and 16-bit samples keep their high byte (PIL's "RGB;16B" unpacker).
 * Exception: PIL turns 16-bit gray into mode "I" and `convert('RGB')` then clips it to 255
 * (near-white images); we take the high byte instead, which is what the image shows.
 */
import { decode as pngDecode } from 'fast-png';
import { BadImageError } from '../errors.ts';
import type { DecodedImage } from './decoded-image.ts';
import type { PngHeader } from './png-header.ts';

export function decodePng(bytes: Uint8Array, h: PngHeader, name: string): DecodedImage {
  if (h.interlaced && h.bitDepth < 8) {
    // fast-png 8 de-interlaces sub-byte pixels as if they were whole bytes, giving garbage.
    throw new BadImageError(`${name}: interlaced PNG with ${h.bitDepth}-bit pixels is not supported; re-save it without interlacing.`);
  }
  let png: ReturnType<typeof pngDecode>;
  try {
    png = pngDecode(bytes, { checkCrc: true });
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause;
    throw new BadImageError(`${name}: cannot decode PNG (${(e as Error).message}${cause ? ` ${cause.message}` : ''}).`);
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
