/**
 * Walks a JPEG's marker segments without decoding pixels. We need this before handing bytes to
 * jpeg-js because jpeg-js (a) silently decodes truncated files with `tolerantDecoding`, (b) allocates
 * before we could refuse a decompression bomb, and (c) guesses the colour transform of RGB/CMYK files
 * differently from libjpeg. Throws BadImageError naming the file.
 */
import { BadImageError } from '../errors.ts';

export interface JpegHeader {
  width: number;
  height: number;
  /** 1 gray, 3 YCbCr or RGB, 4 CMYK or YCCK. */
  components: number;
  componentIds: number[];
  /** Sampling factors [h, v] per component, in frame order. */
  sampling: Array<[number, number]>;
  progressive: boolean;
  jfif: boolean;
  /** Transform byte of an Adobe APP14 segment (0 none/CMYK/RGB, 1 YCbCr, 2 YCCK), null if absent. */
  adobeTransform: number | null;
}

const SOF_NAMES: Record<number, string> = {
  0xc3: 'lossless', 0xc5: 'hierarchical', 0xc6: 'hierarchical progressive', 0xc7: 'hierarchical lossless',
  0xc9: 'arithmetic-coded', 0xca: 'arithmetic-coded progressive', 0xcb: 'arithmetic-coded lossless',
  0xcd: 'arithmetic-coded hierarchical', 0xce: 'arithmetic-coded hierarchical', 0xcf: 'arithmetic-coded hierarchical',
};

export function readJpegHeader(b: Uint8Array, name: string): JpegHeader {
  const n = b.length;
  const truncated = () => new BadImageError(`${name}: JPEG file is truncated (no end-of-image marker); re-download or re-export it.`);
  let header: JpegHeader | null = null;
  let jfif = false;
  let adobe: number | null = null;
  let i = 2; // after SOI
  let ended = false;
  while (i < n) {
    // Tolerate junk between segments (libjpeg only warns): resynchronise on the next 0xFF.
    if (b[i] !== 0xff) { i++; continue; }
    while (i < n && b[i] === 0xff) i++; // fill bytes
    if (i >= n) break;
    const marker = b[i++];
    if (marker === 0xd9) { ended = true; break; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no payload
    if (i + 2 > n) throw truncated();
    const len = (b[i] << 8) | b[i + 1];
    if (len < 2) throw new BadImageError(`${name}: corrupt JPEG (segment length ${len} at byte ${i}).`);
    const start = i + 2;
    const end = i + len;
    if (end > n) throw truncated();
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (SOF_NAMES[marker]) {
        throw new BadImageError(`${name}: ${SOF_NAMES[marker]} JPEG is not supported (only baseline and progressive); re-save it as a standard JPEG or PNG.`);
      }
      if (b[start] !== 8) throw new BadImageError(`${name}: ${b[start]}-bit JPEG is not supported (only 8-bit); convert it to PNG.`);
      const components = b[start + 5];
      const componentIds: number[] = [];
      const sampling: Array<[number, number]> = [];
      for (let c = 0; c < components; c++) {
        componentIds.push(b[start + 6 + 3 * c]);
        sampling.push([b[start + 7 + 3 * c] >> 4, b[start + 7 + 3 * c] & 15]);
      }
      header = {
        height: (b[start + 1] << 8) | b[start + 2],
        width: (b[start + 3] << 8) | b[start + 4],
        components, componentIds, sampling, progressive: marker === 0xc2, jfif: false, adobeTransform: null,
      };
    } else if (marker === 0xe0 && len >= 7 && b[start] === 0x4a && b[start + 1] === 0x46 && b[start + 2] === 0x49 && b[start + 3] === 0x46) {
      jfif = true;
    } else if (marker === 0xee && len >= 14 && String.fromCharCode(...b.subarray(start, start + 5)) === 'Adobe') {
      adobe = b[start + 11];
    }
    i = end;
    if (marker === 0xda) i = skipEntropyData(b, i);
  }
  if (!ended) throw truncated();
  if (!header) throw new BadImageError(`${name}: JPEG has no frame header (SOF); the file is damaged.`);
  header.jfif = jfif;
  header.adobeTransform = adobe;
  return header;
}

/** Returns the offset of the next real marker after entropy-coded data (0xFF00 is a stuffed byte, RSTn are inside the scan). */
function skipEntropyData(b: Uint8Array, i: number): number {
  const n = b.length;
  while (i + 1 < n) {
    if (b[i] !== 0xff) { i++; continue; }
    const m = b[i + 1];
    if (m === 0x00 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; }
    if (m === 0xff) { i++; continue; }
    return i;
  }
  return n;
}
