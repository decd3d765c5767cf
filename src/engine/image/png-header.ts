/**
 * Walks a PNG's chunks without inflating anything, so that truncation and oversized dimensions are
 * caught before fast-png allocates (it would otherwise decode a cut-off IDAT into silent zeros).
 */
import { BadImageError } from '../errors.ts';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export function readPngHeader(b: Uint8Array, name: string): PngHeader {
  const n = b.length;
  const u32 = (i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  const type = (i: number) => String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]);
  const truncated = () => new BadImageError(`${name}: PNG file is truncated (no IEND chunk); re-download or re-export it.`);
  if (n < 33 || type(12) !== 'IHDR') {
    if (n < 33) throw truncated();
    throw new BadImageError(`${name}: corrupt PNG (first chunk is not IHDR).`);
  }
  const header: PngHeader = {
    width: u32(16), height: u32(20), bitDepth: b[24], colorType: b[25], interlaced: b[28] === 1,
  };
  const depths = VALID_DEPTHS[header.colorType];
  if (!depths || !depths.includes(header.bitDepth)) {
    throw new BadImageError(`${name}: corrupt PNG (colour type ${header.colorType} with bit depth ${header.bitDepth}).`);
  }
  let i = 8;
  let sawData = false;
  for (;;) {
    if (i + 12 > n) throw truncated();
    const len = u32(i);
    const t = type(i + 4);
    if (i + 12 + len > n) throw truncated();
    if (t === 'IDAT') sawData = true;
    if (t === 'IEND') break;
    i += 12 + len;
  }
  if (!sawData) throw new BadImageError(`${name}: PNG has no image data (IDAT chunk).`);
  return header;
}
