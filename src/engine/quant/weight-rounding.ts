/**
 * AdaRound's hardened choice per weight (ADFQ §5.3), as JSON-safe data: for each weight layer a bit per
 * weight, 1 = floor(W/Δw) + 1, 0 = floor(W/Δw), packed little-endian into bytes and base64-encoded. A
 * layer without a mask is rounded to nearest. Layer keys: 'patch', 'head', 'headDist', 'blocks.i.qkv',
 * 'blocks.i.proj', 'blocks.i.fc1', 'blocks.i.fc2'.
 */
import { ShapeError } from '../errors.ts';
import { divF32, f32, levelsOf } from '../reference/quant/rounding.ts';
import type { ChannelQuant } from './params.ts';

export type WeightLayer = 'patch' | 'head' | 'headDist' | `blocks.${number}.${'qkv' | 'proj' | 'fc1' | 'fc2'}`;
export type WeightRounding = Partial<Record<WeightLayer, string>>;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return s;
}

function fromBase64(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (const ch of clean) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new ShapeError(`A weight-rounding mask holds '${ch}', which is not base64.`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 255; }
  }
  return out;
}

/** Packs one up/floor flag per weight (non-zero = up). */
export function packRounding(up: ArrayLike<number>): string {
  const bytes = new Uint8Array(Math.ceil(up.length / 8));
  for (let i = 0; i < up.length; i++) if (up[i]) bytes[i >> 3] |= 1 << (i & 7);
  return toBase64(bytes);
}

/** The flags of a packed mask for `count` weights. */
export function unpackRounding(mask: string, count: number): Uint8Array {
  const bytes = fromBase64(mask);
  if (bytes.length !== Math.ceil(count / 8)) throw new ShapeError(`A weight-rounding mask holds ${bytes.length * 8} flags; the layer has ${count} weights.`);
  return Uint8Array.from({ length: count }, (_, i) => (bytes[i >> 3] >> (i & 7)) & 1);
}

/**
 * A weight [in, out] fake-quantized per output column with explicit rounding: Δw·(clamp(floor(W/Δw) + up
 * + zw, 0, L−1) − zw), as adaround.wgsl's hard_weights computes it (f32 quotient, exact f32 products).
 */
export function roundedWeight(w: Float32Array, q: ChannelQuant, bits: number, up: Uint8Array): Float32Array {
  const cols = q.delta.length, top = levelsOf(bits) - 1;
  if (w.length % cols !== 0 || up.length !== w.length) throw new ShapeError(`A rounding mask of ${up.length} flags does not fit a weight of ${w.length} values in ${cols} columns.`);
  return Float32Array.from(w, (v, i) => {
    const d = f32(q.delta[i % cols]), z = q.zero[i % cols];
    const code = Math.min(Math.max(Math.floor(divF32(v, d)) + up[i] + z, 0), top);
    return f32(f32(code - z) * d);
  });
}
