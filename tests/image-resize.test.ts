// Resize, crop and normalise against PIL 9.4 + torchvision's rules: bytes and float32 values must be equal.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  centerCropOffset, decodeImage, defaultResize, normalizeToTensor, preprocessImage, resizeAndCrop, resizeBicubic, resizedSize,
  type DecodedImage,
} from '../src/engine/image/index.ts';

const DIR = new URL('./fixtures/images/', import.meta.url);
const load = (f: string) => decodeImage(new Uint8Array(readFileSync(new URL(f, DIR))), f);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8'));

describe('bicubic resize is bit-exact with PIL Image.resize(BICUBIC)', () => {
  for (const c of manifest.resize as Array<{ source: string; expected: string; width: number; height: number }>) {
    it(`${c.source} → ${c.width}x${c.height}`, () => {
      const out = resizeBicubic(load(c.source), c.width, c.height);
      const ref = load(c.expected);
      expect([out.width, out.height, out.channels]).toEqual([ref.width, ref.height, ref.channels]);
      expect(out.data).toEqual(ref.data);
    });
  }

  it('same size is a copy', () => {
    const img = load('resize-src-gray-45x31.png');
    const out = resizeBicubic(img, 45, 31);
    expect(out.data).toEqual(img.data);
    expect(out.data).not.toBe(img.data);
  });
});

describe('torchvision rules', () => {
  it('Resize(int): shorter side to size, longer side truncated', () => {
    expect(resizedSize(500, 375, 256)).toEqual({ width: 341, height: 256 }); // 341.33
    expect(resizedSize(375, 500, 256)).toEqual({ width: 256, height: 341 });
    expect(resizedSize(333, 500, 256)).toEqual({ width: 256, height: 384 }); // 384.38
    expect(resizedSize(299, 500, 256)).toEqual({ width: 256, height: 428 }); // 428.09
    expect(resizedSize(100, 100, 256)).toEqual({ width: 256, height: 256 });
  });

  it('CenterCrop offset: int(round((h - crop) / 2.0)) rounds half to even; smaller images are padded', () => {
    expect(centerCropOffset(256, 224)).toBe(16);
    expect(centerCropOffset(257, 224)).toBe(16); // round(16.5) = 16
    expect(centerCropOffset(259, 224)).toBe(18); // round(17.5) = 18
    expect(centerCropOffset(41, 28)).toBe(6);
    expect(centerCropOffset(20, 25)).toBe(-2); // pad floor(5/2) = 2 before
  });

  it('default resize follows timm: floor(imageSize / 0.875)', () => {
    expect(defaultResize(224)).toBe(256);
    expect(defaultResize(384)).toBe(438);
    expect(defaultResize(28, 1)).toBe(28);
  });
});

describe('full eval transform vs PIL + numpy float32', () => {
  const p = manifest.pipeline;
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];

  it(`${p.source}: resize ${p.resize}, crop ${p.imageSize} (offset ${p.cropLeft},${p.cropTop})`, () => {
    const crop = resizeAndCrop(load(p.source), p.resize, p.imageSize);
    expect(crop.data).toEqual(load(p.crop).data);
    const tensor = normalizeToTensor(crop, mean, std);
    const ref = new Float32Array(new Uint8Array(readFileSync(new URL(p.tensor, DIR))).buffer);
    expect(tensor).toEqual(ref);
    expect(preprocessImage(load(p.source), { resize: p.resize, imageSize: p.imageSize, mean, std })).toEqual(ref);
  });

  it('gray images give 3 equal channels to RGB models and 1 channel to gray models', () => {
    const gray = load('resize-src-gray-45x31.png');
    const spec = { resize: 12, imageSize: 10, mean: [0.5], std: [0.5] };
    const rgb = preprocessImage(gray, { ...spec, channels: 3 });
    const one = preprocessImage(gray, { ...spec, channels: 1 });
    expect(rgb.length).toBe(300);
    expect(one.length).toBe(100);
    expect(rgb.subarray(0, 100)).toEqual(one);
    expect(rgb.subarray(200, 300)).toEqual(one);
  });

  it('RGB to a 1-channel model uses PIL convert("L") luma', () => {
    const img: DecodedImage = { width: 1, height: 1, channels: 3, data: new Uint8Array([200, 100, 50]) };
    const t = preprocessImage(img, { resize: 1, imageSize: 1, mean: [0], std: [1], channels: 1 });
    expect(Math.round(t[0] * 255)).toBe(124); // (200*19595 + 100*38470 + 50*7471 + 32768) >> 16
  });

  it('crop larger than the resized image is zero-padded like torchvision', () => {
    const img: DecodedImage = { width: 2, height: 2, channels: 1, data: new Uint8Array([10, 20, 30, 40]) };
    const out = resizeAndCrop(img, 2, 4);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 40, 0, 0, 0, 0, 0]);
  });

  it('mismatched mean/std is a usage error', () => {
    const img = load('resize-src-gray-45x31.png');
    expect(() => preprocessImage(img, { resize: 8, imageSize: 8, mean: [0.5, 0.5], std: [0.5] })).toThrow(/mean has 2 values/);
    expect(() => preprocessImage(img, { resize: 8, imageSize: 8, mean: [0.5], std: [0] })).toThrow(/std must be positive/);
  });
});
