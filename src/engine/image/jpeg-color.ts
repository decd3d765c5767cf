/**
 * libjpeg-turbo's chroma upsampling and YCbCr → RGB, applied to jpeg-js's raw samples.
 * jpeg-js upsamples chroma by repetition and converts colour in floating point with truncation,
 * which on 4:2:0 photos moves pixels by ~3 levels on average from what PIL (libjpeg-turbo) gives.
 * Asked for raw YCbCr, jpeg-js still repeats each chroma sample over its block, so the true chroma
 * plane is recoverable; we then redo what libjpeg-turbo does by default ("fancy" triangle upsampling,
 * jdsample.c, and integer colour tables, jdcolor.c). Only the IDCT still differs (about ±1 level).
 */

/**
 * Chroma subsampling ratio [h, v] when we can reproduce libjpeg for it (each 1 or 2, Cb and Cr
 * sampled alike: 4:4:4, 4:2:2, 4:4:0, 4:2:0), else null (jpeg-js's own conversion is used).
 */
export function chromaRatio(sampling: Array<[number, number]>): [number, number] | null {
  if (sampling.length !== 3) return null;
  const [[yh, yv], [bh, bv], [rh, rv]] = sampling;
  if (bh !== rh || bv !== rv || yh % bh !== 0 || yv % bv !== 0) return null;
  const h = yh / bh, v = yv / bv;
  return h <= 2 && v <= 2 ? [h, v] : null;
}

/** Integer tables of jdcolor.c build_ycc_rgb_table (16 fractional bits, 0.5 rounding). */
const FIX = (x: number) => Math.trunc(x * 65536 + 0.5);
const CR_R = new Int32Array(256), CB_B = new Int32Array(256), CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + 32768) >> 16;
  CB_B[i] = (FIX(1.772) * x + 32768) >> 16;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + 32768;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * `raw`: jpeg-js output with colorTransform off (Y, Cb, Cr per pixel, chroma repeated over h×v).
 * Returns RGB as libjpeg-turbo (default settings) would from the same coefficients.
 */
export function yccToRgbLibjpeg(raw: Uint8Array, width: number, height: number, h: number, v: number): Uint8Array {
  const cb = upsample(chromaPlane(raw, width, height, h, v, 1), width, height, h, v);
  const cr = upsample(chromaPlane(raw, width, height, h, v, 2), width, height, h, v);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const y = raw[3 * i];
    out[3 * i] = clamp(y + CR_R[cr[i]]);
    out[3 * i + 1] = clamp(y + ((CB_G[cb[i]] + CR_G[cr[i]]) >> 16));
    out[3 * i + 2] = clamp(y + CB_B[cb[i]]);
  }
  return out;
}

interface Plane { w: number; h: number; data: Uint8Array }

function chromaPlane(raw: Uint8Array, width: number, height: number, h: number, v: number, c: number): Plane {
  const w = Math.ceil(width / h), hh = Math.ceil(height / v);
  const data = new Uint8Array(w * hh);
  for (let y = 0; y < hh; y++) for (let x = 0; x < w; x++) data[y * w + x] = raw[(y * v * width + x * h) * 3 + c];
  return { w, h: hh, data };
}

/**
 * Triangle filter of jdsample.c (h2v1, h1v2, h2v2 "fancy" upsamplers) with edge samples repeated.
 * Each output sample is 3/4 nearer + 1/4 farther input per doubled axis, with libjpeg's alternating
 * rounding biases. libjpeg falls back to plain repetition horizontally when the plane is ≤ 2 wide.
 */
function upsample(p: Plane, width: number, height: number, h: number, v: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const d = p.data;
  const clampY = (y: number) => (y < 0 ? 0 : y >= p.h ? p.h - 1 : y) * p.w;
  const fancyH = h === 2 && p.w > 2;
  for (let oy = 0; oy < height; oy++) {
    const sy = v === 2 ? oy >> 1 : oy;
    const r0 = clampY(sy);
    const r1 = v === 2 ? clampY(oy & 1 ? sy + 1 : sy - 1) : r0; // vertical neighbour row
    const o = oy * width;
    for (let ox = 0; ox < width; ox++) {
      const sx = h === 2 ? ox >> 1 : ox;
      if (h === 2 && !fancyH) {
        out[o + ox] = d[r0 + sx]; // libjpeg repeats (h2v1/h2v2 plain upsampling)
      } else if (!fancyH) {
        out[o + ox] = v === 2 ? (3 * d[r0 + sx] + d[r1 + sx] + (oy & 1 ? 2 : 1)) >> 2 : d[r0 + sx];
      } else {
        const nx = ox & 1 ? Math.min(sx + 1, p.w - 1) : Math.max(sx - 1, 0);
        out[o + ox] = v === 2
          ? (3 * (3 * d[r0 + sx] + d[r1 + sx]) + 3 * d[r0 + nx] + d[r1 + nx] + (ox & 1 ? 7 : 8)) >> 4
          : (3 * d[r0 + sx] + d[r0 + nx] + (ox & 1 ? 2 : 1)) >> 2;
      }
    }
  }
  return out;
}
