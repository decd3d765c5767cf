/**
 * Bicubic resize, bit-exact with PIL's `Image.resize(size, Image.BICUBIC)` for 8-bit images
 * (Pillow's libImaging/Resample.c, unchanged since Pillow 4 and so valid for 9.4). This is what
 * torchvision's `Resize` runs on PIL images, so a ViT sees the pixels it was evaluated with.
 *
 * The rules that make it exact, and antialiased:
 * - separable: a horizontal pass (only over the source rows the vertical pass will read), rounded and
 *   clipped to uint8, then a vertical pass over that intermediate, rounded and clipped again;
 * - kernel a = -0.5 with support 2, stretched by the downscale factor (antialiasing), centred at
 *   `(i + 0.5) * in/out`, window `[trunc(c - s + 0.5), trunc(c + s + 0.5))` clamped to the image;
 * - weights normalised to sum 1 in double, then quantised to 22 fractional bits (round half away
 *   from zero), accumulated in integers from 2^21 (the rounding half) and shifted right by 22.
 */
import type { DecodedImage } from './decoded-image.ts';

const PRECISION_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  /** Per output index: first source index and number of taps. */
  start: Int32Array;
  count: Int32Array;
  /** `[out, ksize]` fixed-point weights. */
  weights: Int32Array;
}

export function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x] / ww : w[x];
      weights[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, weights };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** PIL-exact bicubic resize of an 8-bit gray or RGB image to `outW x outH`. */
export function resizeBicubic(img: DecodedImage, outW: number, outH: number): DecodedImage {
  const ch = img.channels;
  const h = precomputeCoeffs(img.width, outW);
  const v = precomputeCoeffs(img.height, outH);
  let src = img.data;
  let srcW = img.width;
  let rowOffset = 0;
  if (outW !== img.width) {
    // Only rows the vertical pass reads; PIL does the same, and it changes nothing but the cost.
    const from = v.start[0];
    const rows = v.start[outH - 1] + v.count[outH - 1] - from;
    const tmp = new Uint8Array(rows * outW * ch);
    for (let y = 0; y < rows; y++) {
      const rowBase = (y + from) * srcW * ch;
      for (let xx = 0; xx < outW; xx++) {
        const k0 = xx * h.ksize;
        const x0 = h.start[xx];
        for (let c = 0; c < ch; c++) {
          let acc = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < h.count[xx]; x++) acc += src[rowBase + (x0 + x) * ch + c] * h.weights[k0 + x];
          tmp[(y * outW + xx) * ch + c] = clip8(acc);
        }
      }
    }
    src = tmp;
    srcW = outW;
    rowOffset = from;
  }
  if (outH === img.height) return { width: outW, height: outH, channels: ch, data: src === img.data ? src.slice() : src };
  const out = new Uint8Array(outH * outW * ch);
  const rowLen = srcW * ch;
  for (let yy = 0; yy < outH; yy++) {
    const k0 = yy * v.ksize;
    const y0 = v.start[yy] - rowOffset;
    for (let i = 0; i < rowLen; i++) {
      let acc = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < v.count[yy]; y++) acc += src[(y0 + y) * rowLen + i] * v.weights[k0 + y];
      out[yy * rowLen + i] = clip8(acc);
    }
  }
  return { width: outW, height: outH, channels: ch, data: out };
}
