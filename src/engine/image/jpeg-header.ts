/**
 * Walks a JPEG's marker segments without decoding pixels. We need this before handing bytes to
 * jpeg-js because jpeg-js (a) silently decodes truncated files with `tolerantDecoding`, (b) allocates
 * before we could refuse a decompression bomb, (c) guesses the colour transform of RGB/CMYK files
 * differently from libjpeg, (d) crashes with TypeErrors on scans naming missing components or tables
 * and on missing quantisation tables, and (e) decodes any number of scans, each a pass over the image
 * (found by tools/fuzz/image-fuzz.ts). Throws BadImageError naming the file.
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
  /** Entropy-coded bytes over all scans, for the decompression-bomb check (jpegMinScanBytes). */
  scanBytes: number;
}

const SOF_NAMES: Record<number, string> = {
  0xc3: 'lossless', 0xc5: 'hierarchical', 0xc6: 'hierarchical progressive', 0xc7: 'hierarchical lossless',
  0xc9: 'arithmetic-coded', 0xca: 'arithmetic-coded progressive', 0xcb: 'arithmetic-coded lossless',
  0xcd: 'arithmetic-coded hierarchical', 0xce: 'arithmetic-coded hierarchical', 0xcf: 'arithmetic-coded hierarchical',
};

const MAX_SCANS = 500;

export function readJpegHeader(b: Uint8Array, name: string): JpegHeader {
  const n = b.length;
  const truncated = () => new BadImageError(`${name}: JPEG file is truncated (no end-of-image marker); re-download or re-export it.`);
  const corrupt = (what: string) => new BadImageError(`${name}: corrupt JPEG (${what}); the file is damaged.`);
  let header: JpegHeader | null = null;
  let jfif = false;
  let adobe: number | null = null;
  let i = 2; // after SOI
  let ended = false;
  let scanBytes = 0;
  let scans = 0;
  // Table ids defined so far. jpeg-js crashes with a TypeError on a reference to a missing one.
  const tables = { dc: new Set<number>(), ac: new Set<number>(), dqt: new Set<number>() };
  let quantIds: number[] = [];
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
    if (len < 2) throw corrupt(`segment length ${len} at byte ${i}`);
    const start = i + 2;
    const end = i + len;
    if (end > n) throw truncated();
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (SOF_NAMES[marker]) {
        throw new BadImageError(`${name}: ${SOF_NAMES[marker]} JPEG is not supported (only baseline and progressive); re-save it as a standard JPEG or PNG.`);
      }
      if (b[start] !== 8) throw new BadImageError(`${name}: ${b[start]}-bit JPEG is not supported (only 8-bit); convert it to PNG.`);
      // jpeg-js keeps only the last frame header and reads past a short one; libjpeg rejects both.
      if (header) throw corrupt('more than one frame header');
      header = readFrame(b, start, len, marker, corrupt);
      quantIds = header.componentIds.map((_, c) => b[start + 8 + 3 * c]);
    } else if (marker === 0xc4 || marker === 0xdb) {
      readTables(b, start, end, marker, tables, name, corrupt);
    } else if ((marker === 0xdd || marker === 0xdc) && len !== 4) {
      throw corrupt(`${marker === 0xdd ? 'restart interval' : 'line count'} segment of ${len} bytes`);
    } else if (marker === 0xe0 && len >= 7 && b[start] === 0x4a && b[start + 1] === 0x46 && b[start + 2] === 0x49 && b[start + 3] === 0x46) {
      jfif = true;
    } else if (marker === 0xee && len >= 14 && String.fromCharCode(...b.subarray(start, start + 5)) === 'Adobe') {
      adobe = b[start + 11];
    }
    i = end;
    if (marker === 0xda) {
      if (!header) throw corrupt('scan before the frame header');
      checkScan(b, start, len, header, tables, corrupt);
      // Each scan is a pass over every block, so thousands of tiny scans make a CPU bomb out of a small
      // file. Encoders write about 10 (libjpeg's default progressive script) and rarely more than 100.
      if (++scans > MAX_SCANS) throw corrupt(`more than ${MAX_SCANS} scans, refused as a decoding-time bomb`);
      const next = skipEntropyData(b, i);
      scanBytes += next - i;
      i = next;
    }
  }
  if (!ended) throw truncated();
  if (!header) throw new BadImageError(`${name}: JPEG has no frame header (SOF), so no image (an EXIF-only or damaged file).`);
  if (scanBytes === 0) throw new BadImageError(`${name}: JPEG has no image data (no scan); the file is damaged.`);
  const missing = quantIds.find((q) => !tables.dqt.has(q));
  if (missing !== undefined) throw corrupt(`quantisation table ${missing} is never defined`);
  header.jfif = jfif;
  header.adobeTransform = adobe;
  header.scanBytes = scanBytes;
  return header;
}

type Corrupt = (what: string) => BadImageError;
interface Tables { dc: Set<number>; ac: Set<number>; dqt: Set<number> }

function readFrame(b: Uint8Array, start: number, len: number, marker: number, corrupt: Corrupt): JpegHeader {
  const components = b[start + 5];
  // jpeg-js parses SOF, SOS, DHT and DQT by their content, ignoring the length field; a length that
  // disagrees would make it read different segments than we checked, so (like libjpeg) we demand it exact.
  if (components === 0 || len !== 8 + 3 * components) throw corrupt(`frame header of ${len} bytes for ${components} components`);
  const componentIds: number[] = [];
  const sampling: Array<[number, number]> = [];
  for (let c = 0; c < components; c++) {
    componentIds.push(b[start + 6 + 3 * c]);
    const hv: [number, number] = [b[start + 7 + 3 * c] >> 4, b[start + 7 + 3 * c] & 15];
    // The standard allows 1..4; 0 makes jpeg-js divide by zero, larger ones make it allocate wildly.
    if (hv[0] < 1 || hv[0] > 4 || hv[1] < 1 || hv[1] > 4) throw corrupt(`sampling factors ${hv[0]}x${hv[1]}`);
    sampling.push(hv);
  }
  return {
    height: (b[start + 1] << 8) | b[start + 2],
    width: (b[start + 3] << 8) | b[start + 4],
    components, componentIds, sampling, progressive: marker === 0xc2, jfif: false, adobeTransform: null, scanBytes: 0,
  };
}

/** Records the Huffman (DHT) or quantisation (DQT) tables a segment defines, indexed as jpeg-js indexes them. */
function readTables(b: Uint8Array, start: number, end: number, marker: number, t: Tables, name: string, corrupt: Corrupt): void {
  let p = start;
  while (p < end) {
    const spec = b[p];
    if (marker === 0xdb) {
      if (spec >> 4 > 1) throw corrupt(`quantisation table precision ${spec >> 4}`);
      p += 1 + ((spec >> 4) === 0 ? 64 : 128);
      t.dqt.add(spec & 15);
    } else {
      let size = 17;
      for (let k = 1; k <= 16 && p + k < end; k++) size += b[p + k];
      p += size;
      ((spec >> 4) === 0 ? t.dc : t.ac).add(spec & 15);
    }
  }
  if (p === end) return;
  if (marker === 0xdb) throw corrupt('quantisation tables do not fill their DQT segment');
  throw new BadImageError(`${name}: cannot decode JPEG (Could not recreate Huffman Table): its code counts do not fit the DHT segment; the file is damaged.`);
}

/** A scan must name frame components and Huffman tables defined before it (jpeg-js crashes otherwise). */
function checkScan(b: Uint8Array, start: number, len: number, h: JpegHeader, t: Tables, corrupt: Corrupt): void {
  const ns = b[start];
  if (ns < 1 || ns > 4 || len !== 6 + 2 * ns) throw corrupt(`scan header of ${len} bytes for ${ns} components`);
  const ss = b[start + 1 + 2 * ns], ah = b[start + 3 + 2 * ns] >> 4;
  for (let k = 0; k < ns; k++) {
    const id = b[start + 1 + 2 * k], sel = b[start + 2 + 2 * k];
    if (!h.componentIds.includes(id)) throw corrupt(`scan refers to component ${id}, not in the frame`);
    const needDc = h.progressive ? ss === 0 && ah === 0 : true;
    const needAc = h.progressive ? ss > 0 : true;
    if ((needDc && !t.dc.has(sel >> 4)) || (needAc && !t.ac.has(sel & 15))) throw corrupt('scan uses a Huffman table that is not defined');
  }
}

/**
 * Fewest entropy-coded bytes a complete image of this size can have: every 8x8 block of every
 * component costs at least one bit (its DC Huffman code, never shorter than 1 bit), in baseline
 * and progressive files alike. A file far below this is a decompression bomb or cut short.
 */
export function jpegMinScanBytes(h: JpegHeader): number {
  const maxH = Math.max(...h.sampling.map((s) => s[0])), maxV = Math.max(...h.sampling.map((s) => s[1]));
  let blocks = 0;
  for (const [sh, sv] of h.sampling) {
    blocks += Math.ceil(Math.ceil((h.width * sh) / maxH) / 8) * Math.ceil(Math.ceil((h.height * sv) / maxV) / 8);
  }
  return Math.floor(blocks / 8);
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
