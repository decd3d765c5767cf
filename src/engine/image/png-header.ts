/**
 * Walks a PNG's chunks without inflating anything, so that truncation and oversized dimensions are
 * caught before anything is allocated (fast-png would otherwise decode a cut-off IDAT into silent
 * zeros). It also picks the chunks the default image needs, so that ancillary chunks fast-png parses
 * badly (an iCCP profile it inflates without limit, tRNS on RGBA, APNG frames) never reach it.
 */
import { BadImageError } from '../errors.ts';

/** One chunk: `start` is the offset of its length field, `length` the payload size. */
export interface PngChunk { type: string; start: number; length: number }

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
  /** IHDR, PLTE (palette images only), every IDAT, IEND, in file order: all the default image needs. */
  chunks: PngChunk[];
  /** Compressed pixel data (sum of IDAT payloads), for the decompression-bomb check. */
  idatBytes: number;
  /** An APNG (acTL chunk): we decode its default image, as non-animating viewers and PIL do. */
  animated: boolean;
}

const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function readPngHeader(b: Uint8Array, name: string): PngHeader {
  const n = b.length;
  const u32 = (i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  const type = (i: number) => String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]);
  const truncated = () => new BadImageError(`${name}: PNG file is truncated (no IEND chunk); re-download or re-export it.`);
  const corrupt = (what: string) => new BadImageError(`${name}: corrupt PNG (${what}); the file is damaged.`);
  if (n < 33) throw truncated();
  if (type(12) !== 'IHDR' || u32(8) !== 13) throw corrupt('first chunk is not a 13-byte IHDR');
  const header: PngHeader = {
    width: u32(16), height: u32(20), bitDepth: b[24], colorType: b[25], interlaced: b[28] === 1,
    chunks: [], idatBytes: 0, animated: false,
  };
  const depths = VALID_DEPTHS[header.colorType];
  if (!depths || !depths.includes(header.bitDepth)) {
    throw corrupt(`colour type ${header.colorType} with bit depth ${header.bitDepth}`);
  }
  // Only method 0 exists for compression and filtering, and interlace is 0 (none) or 1 (Adam7).
  if (b[26] !== 0 || b[27] !== 0 || b[28] > 1) throw corrupt(`IHDR methods ${b[26]}/${b[27]}/${b[28]}`);
  let i = 8;
  let palette = false;
  for (;;) {
    if (i + 12 > n) throw truncated();
    const len = u32(i);
    const t = type(i + 4);
    if (len > 0x7fffffff) throw corrupt(`chunk length ${len} at byte ${i}`); // the spec's limit; also catches flipped high bits
    if (i + 12 + len > n) throw truncated();
    const chunk = { type: t, start: i, length: len };
    if (i === 8) header.chunks.push(chunk);
    else if (t === 'IDAT') { header.chunks.push(chunk); header.idatBytes += len; }
    else if (t === 'acTL') header.animated = true;
    else if (t === 'PLTE' && header.colorType === 3 && !palette) {
      // libpng refuses a palette image whose PLTE is not 1..256 RGB triples; so do we.
      if (len === 0 || len % 3 !== 0 || len > 768) throw corrupt(`PLTE chunk of ${len} bytes`);
      palette = true;
      header.chunks.push(chunk);
    }
    i += 12 + len;
    if (t === 'IEND') { header.chunks.push(chunk); break; } // anything after IEND is ignored, as libpng does
  }
  if (header.idatBytes === 0) throw new BadImageError(`${name}: PNG has no image data (IDAT chunk).`);
  if (header.colorType === 3 && !palette) throw corrupt('palette image without a PLTE chunk');
  return header;
}

/** Bytes of the inflated, still filtered image data the header implies (one filter byte per row, per Adam7 pass). */
export function pngRawSize(h: Pick<PngHeader, 'width' | 'height' | 'bitDepth' | 'colorType' | 'interlaced'>): number {
  const bits = h.bitDepth * CHANNELS[h.colorType];
  const rows = (w: number, hh: number) => (w > 0 && hh > 0 ? hh * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (!h.interlaced) return rows(h.width, h.height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    total += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  }
  return total;
}

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

const CRC_TABLE = new Int32Array(256).map((_, k) => {
  let c = k;
  for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 of a chunk's type and payload, as stored after it. */
export function pngChunkCrcOk(b: Uint8Array, c: PngChunk): boolean {
  let crc = -1;
  const end = c.start + 8 + c.length;
  for (let i = c.start + 4; i < end; i++) crc = CRC_TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  const stored = ((b[end] << 24) | (b[end + 1] << 16) | (b[end + 2] << 8) | b[end + 3]) >>> 0;
  return ((crc ^ -1) >>> 0) === stored;
}
