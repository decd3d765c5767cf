// Every unusable input must end in a BadImageError that names the file, before any large allocation.
import { readFileSync } from 'node:fs';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { BadImageError } from '../src/engine/errors.ts';
import { decodeImage } from '../src/engine/image/index.ts';

const read = (f: string) => new Uint8Array(readFileSync(new URL(`./fixtures/images/${f}`, import.meta.url)));
const jpeg = read('jpeg-baseline-420.jpg');
const png = read('png-rgba.png');

function expectBad(bytes: Uint8Array, name: string, pattern: RegExp, options?: { maxPixels?: number }) {
  let error: unknown;
  try { decodeImage(bytes, name, options); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(BadImageError);
  expect((error as BadImageError).code).toBe('bad-image');
  expect((error as Error).message).toContain(name);
  expect((error as Error).message).toMatch(pattern);
}

/** Returns a copy with the JPEG frame header's width/height (or another SOF byte) changed. */
function patchSof(bytes: Uint8Array, edit: (b: Uint8Array, sof: number) => void): Uint8Array {
  const b = bytes.slice();
  let i = 2;
  while (!(b[i] === 0xff && b[i + 1] >= 0xc0 && b[i + 1] <= 0xc2)) i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  edit(b, i);
  return b;
}

/** PNG with a given IHDR and a tiny IDAT: only the header matters for the checks. */
function pngWithHeader(width: number, height: number, extra?: (b: Uint8Array) => void): Uint8Array {
  const b = encodePng({ width: 2, height: 2, data: new Uint8Array(12), channels: 3, depth: 8 });
  const v = new DataView(b.buffer, b.byteOffset);
  v.setUint32(16, width);
  v.setUint32(20, height);
  extra?.(b);
  return b;
}

describe('bad images are rejected with BadImageError naming the file', () => {
  it('zero bytes', () => expectBad(new Uint8Array(0), 'empty.jpg', /empty \(0 bytes\)/));
  it('unknown format', () => expectBad(new TextEncoder().encode('hello, not an image'), 'notes.png', /not a PNG or JPEG/));
  it('known but unsupported formats are named', () => {
    expectBad(new TextEncoder().encode('GIF89a......'), 'anim.gif', /format not supported \(GIF\); convert to JPEG or PNG/);
    expectBad(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '), 'x.webp', /format not supported \(WebP\); convert to JPEG or PNG/);
  });
  it('truncated JPEG', () => expectBad(jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'cut.jpg', /truncated/));
  it('JPEG cut just before its end marker', () => expectBad(jpeg.subarray(0, jpeg.length - 2), 'cut2.jpg', /truncated/));
  it('truncated PNG', () => expectBad(png.subarray(0, png.length - 20), 'cut.png', /truncated/));
  it('PNG with a corrupted CRC', () => {
    const b = png.slice();
    const idat = b.findIndex((v, i) => v === 0x49 && b[i + 1] === 0x44 && b[i + 2] === 0x41 && b[i + 3] === 0x54);
    b[idat + 10] ^= 0xff; // inside the compressed data, so only the CRC reveals it
    expectBad(b, 'crc.png', /cannot decode PNG/);
  });
  it('decompression bomb: PNG header checked before decoding', () => {
    expectBad(pngWithHeader(100_000, 100_000), 'bomb.png', /10000\.0 megapixels, above the 50 MP limit/);
  });
  it('decompression bomb: JPEG header checked before decoding', () => {
    const big = patchSof(jpeg, (b, i) => { b.set([0x40, 0x00, 0x40, 0x00], i + 5); }); // 16384 x 16384
    expectBad(big, 'bomb.jpg', /268\.4 megapixels/);
  });
  it('the pixel limit is an option', () => expectBad(jpeg, 'small.jpg', /above the 0 MP limit/, { maxPixels: 100 }));
  it('zero-sized image', () => expectBad(pngWithHeader(0, 5), 'zero.png', /zero size/));
  it('12-bit and arithmetic-coded JPEGs', () => {
    expectBad(patchSof(jpeg, (b, i) => { b[i + 4] = 12; }), 'deep.jpg', /12-bit JPEG is not supported/);
    expectBad(patchSof(jpeg, (b, i) => { b[i + 1] = 0xc9; }), 'arith.jpg', /arithmetic-coded JPEG is not supported/);
  });
  it('JPEG whose Huffman table is corrupt (jpeg-js error is wrapped)', () => {
    const b = jpeg.slice();
    const dht = b.findIndex((v, i) => v === 0xff && b[i + 1] === 0xc4);
    b.fill(0, dht + 5, dht + 21); // all code-length counts zero
    expectBad(b, 'huff.jpg', /cannot decode JPEG \(Could not recreate Huffman Table\)/);
  });
  it('CMYK JPEG without an Adobe marker (its inversion convention is unknown)', () => {
    const b = read('jpeg-cmyk.jpg');
    const app14 = b.findIndex((v, i) => v === 0xff && b[i + 1] === 0xee);
    const len = 2 + ((b[app14 + 2] << 8) | b[app14 + 3]);
    const stripped = new Uint8Array([...b.subarray(0, app14), ...b.subarray(app14 + len)]);
    expectBad(stripped, 'cmyk.jpg', /CMYK JPEG without an Adobe marker/);
  });
  it('interlaced 1-bit PNG (fast-png cannot de-interlace it)', () => {
    expectBad(pngWithHeader(2, 2, (b) => { b[24] = 1; b[25] = 0; b[28] = 1; }), 'il.png', /interlaced PNG with 1-bit/);
  });
  it('palette index beyond the palette', () => {
    const b = encodePng({ width: 2, height: 1, data: new Uint8Array([0, 5]), channels: 1, depth: 8, palette: [[1, 2, 3], [4, 5, 6]] });
    expectBad(b, 'pal.png', /palette entry 5/);
  });
});
