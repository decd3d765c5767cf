/**
 * Seeded mutations of good PNG/JPEG files for tools/fuzz/image-fuzz.ts. Besides blind bit flips and
 * cuts, PNG mutations can fix up CRCs and re-compress edited pixel data, because otherwise the CRC
 * check stops almost every PNG mutant before the inflater, the unfilter or the palette code runs.
 */
import { deflateSync, inflateSync } from 'node:zlib';

/** mulberry32: small, fast, and the same sequence on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: T[]): T => xs[int(r, xs.length)];
const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 0x7f, 0x80, 0xfe, 0xff];
const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50;

interface Chunk { type: string; data: Uint8Array }

function pngChunks(b: Uint8Array): Chunk[] {
  const out: Chunk[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 8; i + 12 <= b.length;) {
    const len = v.getUint32(i);
    if (i + 12 + len > b.length) break;
    out.push({ type: String.fromCharCode(...b.subarray(i + 4, i + 8)), data: b.slice(i + 8, i + 8 + len) });
    i += 12 + len;
  }
  return out;
}

const CRC = new Int32Array(256).map((_, k) => { let c = k; for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });

/** Writes chunks back with correct lengths and CRCs. */
function pngWrite(chunks: Chunk[]): Uint8Array {
  const out = new Uint8Array(8 + chunks.reduce((s, c) => s + 12 + c.data.length, 0));
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(out.buffer);
  let o = 8;
  for (const c of chunks) {
    v.setUint32(o, c.data.length);
    for (let k = 0; k < 4; k++) out[o + 4 + k] = c.type.charCodeAt(k) & 0xff;
    out.set(c.data, o + 8);
    let crc = -1;
    for (let i = o + 4; i < o + 8 + c.data.length; i++) crc = CRC[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
    v.setUint32(o + 8 + c.data.length, (crc ^ -1) >>> 0);
    o += 12 + c.data.length;
  }
  return out;
}

const blind: Array<[string, (b: Uint8Array, r: Rand) => Uint8Array]> = [
  ['bit flips', (b, r) => { const c = b.slice(); for (let n = 1 + int(r, 8); n > 0; n--) c[int(r, c.length)] ^= 1 << int(r, 8); return c; }],
  ['byte set', (b, r) => { const c = b.slice(); for (let n = 1 + int(r, 4); n > 0; n--) c[int(r, c.length)] = r() < 0.5 ? pick(r, INTERESTING) : int(r, 256); return c; }],
  ['truncate', (b, r) => b.slice(0, int(r, b.length))],
  ['truncate + end marker', (b, r) => {
    const end = isPng(b) ? [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82] : [0xff, 0xd9];
    return new Uint8Array([...b.subarray(0, int(r, b.length)), ...end]);
  }],
  ['insert bytes', (b, r) => { const at = int(r, b.length); const ins = Array.from({ length: 1 + int(r, 16) }, () => int(r, 256)); return new Uint8Array([...b.subarray(0, at), ...ins, ...b.subarray(at)]); }],
  ['delete range', (b, r) => { const at = int(r, b.length); const n = 1 + int(r, 64); return new Uint8Array([...b.subarray(0, at), ...b.subarray(at + n)]); }],
  ['duplicate range', (b, r) => { const at = int(r, b.length); const n = 1 + int(r, 200); return new Uint8Array([...b.subarray(0, at + n), ...b.subarray(at)]); }],
];

/** JPEG: edit a field of a marker segment (SOF dims, precision, components, sampling, DQT/DHT/SOS/DRI bytes). */
function jpegField(b: Uint8Array, r: Rand): Uint8Array {
  const c = b.slice();
  const segs: number[] = [];
  for (let i = 2; i + 4 < c.length && segs.length < 64;) {
    if (c[i] !== 0xff) break;
    segs.push(i);
    if (c[i + 1] === 0xda) break;
    i += 2 + ((c[i + 2] << 8) | c[i + 3]);
  }
  const sof = segs.find((i) => c[i + 1] >= 0xc0 && c[i + 1] <= 0xc2);
  if (sof !== undefined && r() < 0.6) {
    const field = pick(r, [4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 17]); // precision, height, width, count, sampling, quant ids
    c[sof + field] = r() < 0.7 ? pick(r, INTERESTING) : int(r, 256);
    return c;
  }
  const s = pick(r, segs.length ? segs : [2]);
  const len = (c[s + 2] << 8) | c[s + 3];
  c[s + 2 + int(r, Math.max(2, Math.min(len, c.length - s - 2)))] = pick(r, INTERESTING);
  return c;
}

/** PNG: structured edits that keep CRCs valid, so the decoder's later stages see them. */
const pngStructured: Array<[string, (cs: Chunk[], r: Rand) => void]> = [
  ['IHDR field', (cs, r) => {
    const h = cs.find((c) => c.type === 'IHDR');
    if (!h || h.data.length < 13) return;
    const v = new DataView(h.data.buffer, h.data.byteOffset);
    const f = int(r, 6);
    if (f < 2) v.setUint32(f * 4, pick(r, [0, 1, 2, 7, 255, 4096, 65535, 70000, 1 << 20, 0x7fffffff, 0xffffffff]));
    else h.data[6 + f] = pick(r, INTERESTING); // depth, colour type, compression, filter, interlace
  }],
  ['pixel data edit', (cs, r) => {
    const idat = cs.filter((c) => c.type === 'IDAT');
    if (!idat.length) return;
    let raw: Uint8Array;
    try { raw = new Uint8Array(inflateSync(Buffer.concat(idat.map((c) => c.data)))); } catch { return; }
    const op = int(r, 4);
    if (op === 0) for (let n = 1 + int(r, 6); n > 0; n--) raw[int(r, raw.length)] = pick(r, [...INTERESTING, 5, 9, 255]); // filter bytes, indices
    if (op === 1) raw = raw.slice(0, int(r, raw.length));
    if (op === 2) raw = new Uint8Array([...raw, ...new Uint8Array(1 + int(r, 5000)).map(() => int(r, 256))]);
    if (op === 3) raw = raw.slice(0, raw.length - 1 - int(r, 8));
    const z = new Uint8Array(deflateSync(raw));
    cs.splice(cs.indexOf(idat[0]), idat.length, { type: 'IDAT', data: z });
  }],
  ['chunk drop/duplicate/reorder', (cs, r) => {
    const i = int(r, cs.length), j = int(r, cs.length);
    const op = int(r, 3);
    if (op === 0) cs.splice(i, 1);
    if (op === 1) cs.splice(j, 0, { type: cs[i].type, data: cs[i].data.slice() });
    if (op === 2) [cs[i], cs[j]] = [cs[j], cs[i]];
  }],
  ['chunk insert', (cs, r) => {
    const type = pick(r, ['PLTE', 'tRNS', 'iCCP', 'acTL', 'fcTL', 'fdAT', 'IHDR', 'IEND', 'zTXt', 'sBIT', 'CgBI', 'XXXX']);
    cs.splice(1 + int(r, cs.length), 0, { type, data: new Uint8Array(int(r, 40)).map(() => int(r, 256)) });
  }],
];

/** One mutant of `seed`: 1–3 mutations; returns the bytes and a short description. */
export function mutate(seed: Uint8Array, r: Rand): { bytes: Uint8Array; how: string } {
  let b = seed;
  const how: string[] = [];
  for (let n = 1 + int(r, 3); n > 0; n--) {
    if (isPng(b) && r() < 0.5) {
      const [name, fn] = pick(r, pngStructured);
      const cs = pngChunks(b);
      if (!cs.length) continue;
      fn(cs, r);
      b = pngWrite(cs);
      how.push(name);
    } else if (!isPng(b) && b[0] === 0xff && r() < 0.4) {
      b = jpegField(b, r);
      how.push('JPEG header field');
    } else {
      const [name, fn] = pick(r, blind);
      if (b.length === 0) break;
      b = fn(b, r);
      how.push(name);
    }
  }
  return { bytes: b, how: how.join(' + ') };
}
