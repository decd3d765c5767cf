// Decoding every PNG/JPEG kind to 8-bit gray or RGB, against PIL's own decode of committed fixtures
// and against the source pixels of images encoded here with fast-png and jpeg-js.
import { readFileSync } from 'node:fs';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage, detectImageFormat } from '../src/engine/image/index.ts';

const DIR = new URL('./fixtures/images/', import.meta.url);
const read = (f: string) => new Uint8Array(readFileSync(new URL(f, DIR)));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8'));

function diff(a: Uint8Array, b: Uint8Array) {
  expect(a.length).toBe(b.length);
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); max = Math.max(max, d); sum += d; }
  return { max, mean: sum / a.length };
}

/** Deterministic pixels (xorshift) so generated images are the same on every run. */
function pixels(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; out[i] = s & 255; }
  return out;
}

describe('decode: committed fixtures vs PIL 9.4', () => {
  // PNG decoding is lossless, so equality is exact; JPEG differs only by IDCT rounding (jpeg-js vs libjpeg-turbo).
  const jpegBound: Record<string, { max: number; mean: number }> = {
    'jpeg-baseline-420.jpg': { max: 3, mean: 0.3 }, 'jpeg-baseline-444.jpg': { max: 3, mean: 0.3 },
    'jpeg-progressive.jpg': { max: 3, mean: 0.3 }, 'jpeg-gray.jpg': { max: 1, mean: 0.1 }, 'jpeg-cmyk.jpg': { max: 1, mean: 0.1 },
  };
  for (const c of manifest.decode as Array<{ file: string; kind: string; channels: number }>) {
    it(`${c.file} → ${c.channels} channel(s)`, () => {
      const img = decodeImage(read(c.file), c.file);
      const ref = decodeImage(read(`${c.file}.pil.png`), 'ref');
      expect([img.width, img.height, img.channels]).toEqual([ref.width, ref.height, c.channels]);
      const d = diff(img.data, ref.data);
      if (c.kind === 'png') expect(d.max).toBe(0);
      else {
        expect(d.max).toBeLessThanOrEqual(jpegBound[c.file].max);
        expect(d.mean).toBeLessThanOrEqual(jpegBound[c.file].mean);
      }
    });
  }
});

describe('decode: PNGs encoded with fast-png', () => {
  const W = 13, H = 7, N = W * H;
  const cases: Array<{ name: string; channels: number; depth: 8 | 16; out: 1 | 3; interlace?: 'Adam7' }> = [
    { name: 'gray 8', channels: 1, depth: 8, out: 1 }, { name: 'gray 16', channels: 1, depth: 16, out: 1 },
    { name: 'gray+alpha 8', channels: 2, depth: 8, out: 1 }, { name: 'gray+alpha 16', channels: 2, depth: 16, out: 1 },
    { name: 'RGB 8', channels: 3, depth: 8, out: 3 }, { name: 'RGB 16', channels: 3, depth: 16, out: 3 },
    { name: 'RGBA 8', channels: 4, depth: 8, out: 3 }, { name: 'RGBA 16', channels: 4, depth: 16, out: 3 },
    { name: 'RGB 8 Adam7-interlaced', channels: 3, depth: 8, out: 3, interlace: 'Adam7' },
  ];
  for (const c of cases) {
    it(`${c.name}: alpha dropped, 16-bit keeps the high byte`, () => {
      const src8 = pixels(N * c.channels);
      const data = c.depth === 16 ? Uint16Array.from(src8, (v, i) => v * 256 + (i % 251)) : src8;
      const bytes = encodePng({ width: W, height: H, data, channels: c.channels, depth: c.depth }, { interlace: c.interlace ?? 'null' });
      const img = decodeImage(bytes, 'gen.png');
      expect([img.width, img.height, img.channels]).toEqual([W, H, c.out]);
      const expected = new Uint8Array(N * c.out);
      for (let i = 0; i < N; i++) for (let k = 0; k < c.out; k++) expected[i * c.out + k] = src8[i * c.channels + k];
      expect(img.data).toEqual(expected);
    });
  }

  for (const depth of [1, 2, 4] as const) {
    it(`gray ${depth}-bit is unpacked and scaled to 0..255`, () => {
      const levels = (1 << depth) - 1;
      const values = Array.from(pixels(N), (v) => v % (levels + 1));
      const stride = Math.ceil((W * depth) / 8);
      const packed = new Uint8Array(stride * H);
      values.forEach((v, i) => {
        const x = i % W, y = Math.floor(i / W), bit = x * depth;
        packed[y * stride + (bit >> 3)] |= v << (8 - depth - (bit & 7));
      });
      const img = decodeImage(encodePng({ width: W, height: H, data: packed, channels: 1, depth }), 'low.png');
      expect(Array.from(img.data)).toEqual(values.map((v) => (v * 255) / levels));
    });
  }

  it('palette PNG expands to RGB', () => {
    const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]];
    const idx = Uint8Array.from(pixels(N), (v) => v % 4);
    const img = decodeImage(encodePng({ width: W, height: H, data: idx, channels: 1, depth: 8, palette }), 'pal.png');
    expect(img.channels).toBe(3);
    expect(Array.from(img.data)).toEqual(Array.from(idx).flatMap((i) => palette[i]));
  });
});

describe('decode: JPEGs encoded with jpeg-js', () => {
  it('RGB JPEG decodes close to its source (lossy)', () => {
    const W = 40, H = 24;
    const rgba = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgba.set([x * 6, y * 10, 128, 255], (y * W + x) * 4);
    const img = decodeImage(encodeJpeg({ width: W, height: H, data: rgba }, 95).data, 'gen.jpg');
    expect([img.width, img.height, img.channels]).toEqual([W, H, 3]);
    const rgb = rgba.filter((_, i) => i % 4 !== 3);
    expect(diff(img.data, rgb).mean).toBeLessThan(2);
  });
});

describe('format detection uses magic bytes, not names', () => {
  it('a PNG named .jpg decodes as PNG and a JPEG named .png as JPEG', () => {
    const png = read('png-rgba.png'), jpg = read('jpeg-gray.jpg');
    expect(detectImageFormat(png)).toBe('png');
    expect(detectImageFormat(jpg)).toBe('jpeg');
    expect(decodeImage(png, 'photo.jpg').channels).toBe(3);
    expect(decodeImage(jpg, 'photo.png').channels).toBe(1);
  });
});
