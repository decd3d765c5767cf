/**
 * The integer codes of every quantized weight, as quantizeModelWeights rounds them (nearest, or AdaRound's
 * hardened choice where params.rounding has a mask), and how they are stored for DequantizeLinear:
 * stored code c = q − s and zero point zp = z − s with a shift s per output channel, so that
 * (c − zp)·Δ = (q − z)·Δ exactly while c and zp fit the container (int4, int8, or int32 when z is too far
 * outside the code range for 8 bits; int32 takes zp = 0, so c = q − z).
 */
import { InternalError, ShapeError } from '../errors.ts';
import type { ChannelQuant, ViTQuantParams } from '../quant/params.ts';
import { unpackRounding, type WeightLayer } from '../quant/weight-rounding.ts';
import { divF32, f32, levelsOf } from '../reference/quant/rounding.ts';
import { uniformQuantRef } from '../reference/quant/uniform-quant.ts';
import type { ViTModel } from '../vit/description.ts';

export type WeightContainer = 'int4' | 'int8' | 'int32';

/** One weight layer: where it lives in our canonical model and in the exported graph. */
export interface WeightLayerInfo {
  /** Rounding-mask key (weight-rounding.ts). */
  key: WeightLayer;
  /** Exported name prefix (timm's module names): 'patch_embed.proj', 'blocks.0.attn.qkv', …, 'head'. */
  name: string;
  /** Canonical [in, out] weight and the quantizer of its output columns. */
  weight: Float32Array;
  quant: ChannelQuant;
  /** Stored layout: [in, out] for MatMul (axis 1); [out, Cin, p, p] for the patch Conv (axis 0). */
  dims: number[];
  axis: number;
}

export interface StoredWeight extends WeightLayerInfo {
  container: WeightContainer;
  /** Codes c in the stored layout. */
  codes: Int32Array;
  /** Per output channel: zero point zp and step Δ (float32). */
  zeroPoints: Int32Array;
  scales: Float32Array;
  /** f32((c − zp)·Δ) in the CANONICAL layout: equals quantizeModelWeights' value bit for bit. */
  dequantized: Float32Array;
  rounding: 'nearest' | 'adaround';
}

/** Every quantized weight layer of the model, in forward order. */
export function weightLayers(model: ViTModel, params: ViTQuantParams): WeightLayerInfo[] {
  const c = model.config, w = model.weights;
  const linear = (key: WeightLayer, name: string, weight: Float32Array, quant: ChannelQuant, out: number): WeightLayerInfo => {
    if (quant.delta.length !== out || weight.length % out !== 0) throw new ShapeError(`The quantizer of ${name} has ${quant.delta.length} channels; the layer has ${out} outputs.`);
    return { key, name, weight, quant, dims: [weight.length / out, out], axis: 1 };
  };
  if (params.blocks.length !== c.depth) throw new ShapeError(`Quantization parameters describe ${params.blocks.length} blocks; the model has ${c.depth}.`);
  if ((w.headDistW !== null) !== (params.headDistW !== undefined)) throw new ShapeError('Quantization parameters and model disagree on the distillation head.');
  const patch = linear('patch', 'patch_embed.proj', w.patchW, params.patchW, c.dim);
  const layers = [{ ...patch, dims: [c.dim, c.inChannels, c.patch, c.patch], axis: 0 }];
  w.blocks.forEach((b, i) => {
    const q = params.blocks[i];
    layers.push(linear(`blocks.${i}.qkv`, `blocks.${i}.attn.qkv`, b.qkvW, q.qkvW, 3 * c.dim), linear(`blocks.${i}.proj`, `blocks.${i}.attn.proj`, b.projW, q.projW, c.dim),
      linear(`blocks.${i}.fc1`, `blocks.${i}.mlp.fc1`, b.fc1W, q.fc1W, c.mlpDim), linear(`blocks.${i}.fc2`, `blocks.${i}.mlp.fc2`, b.fc2W, q.fc2W, c.dim));
  });
  layers.push(linear('head', 'head', w.headW, params.headW, c.numClasses));
  if (w.headDistW && params.headDistW) layers.push(linear('headDist', 'head_dist', w.headDistW, params.headDistW, c.numClasses));
  for (const l of layers) {
    if (l.quant.zero.length !== l.quant.delta.length) throw new ShapeError(`The quantizer of ${l.name} has ${l.quant.delta.length} step sizes and ${l.quant.zero.length} zero points.`);
    l.quant.delta.forEach((d, o) => {
      if (!(Number.isFinite(d) && f32(d) > 0) || !Number.isInteger(l.quant.zero[o])) throw new ShapeError(`Channel ${o} of ${l.name} has step ${d} and zero point ${l.quant.zero[o]}; a positive step and an integer zero point are needed.`);
    });
  }
  return layers;
}

/** Codes q ∈ [0, L−1] in the canonical layout, exactly as quantizeModelWeights rounds. */
export function weightCodes(l: WeightLayerInfo, bits: number, mask: string | undefined): Int32Array {
  const cols = l.quant.delta.length, top = levelsOf(bits) - 1;
  if (!mask) {
    const r = uniformQuantRef(l.weight, { bits, granularity: 'channel', delta: Float32Array.from(l.quant.delta), zero: Float32Array.from(l.quant.zero), cols });
    return Int32Array.from(r.codes);
  }
  // weight-rounding.ts roundedWeight: clamp(floor(W/Δw) + up + zw, 0, L−1).
  const up = unpackRounding(mask, l.weight.length);
  return Int32Array.from(l.weight, (v, i) => Math.min(Math.max(Math.floor(divF32(v, f32(l.quant.delta[i % cols]))) + up[i] + l.quant.zero[i % cols], 0), top));
}

const RANGE: Record<WeightContainer, [number, number]> = { int4: [-8, 7], int8: [-128, 127], int32: [-(2 ** 31), 2 ** 31 - 1] };

/**
 * Per column, the shift s closest to 2^(b−1) (codes centred on zero) that fits c = q − s and zp = z − s
 * into [lo, hi]; null when none does.
 */
function columnShifts(codes: Int32Array, zero: number[], bits: number, [lo, hi]: [number, number]): Int32Array | null {
  const cols = zero.length, min = zero.slice(), max = zero.slice();
  for (let i = 0; i < codes.length; i++) {
    const o = i % cols;
    if (codes[i] < min[o]) min[o] = codes[i];
    if (codes[i] > max[o]) max[o] = codes[i];
  }
  const shifts = new Int32Array(cols), centre = 2 ** (bits - 1);
  for (let o = 0; o < cols; o++) {
    const from = max[o] - hi, to = min[o] - lo;   // s must lie in [from, to]
    if (from > to) return null;
    shifts[o] = Math.min(Math.max(centre, from), to);
  }
  return shifts;
}

/** Codes, zero points and container of one layer; the smallest container allowed that holds them exactly. */
export function storeWeight(l: WeightLayerInfo, bits: number, mask: string | undefined, preferred: 'int4' | 'int8'): StoredWeight {
  const q = weightCodes(l, bits, mask), cols = l.quant.delta.length;
  let container: WeightContainer = preferred;
  let shifts = columnShifts(q, l.quant.zero, bits, RANGE[container]);
  if (!shifts && container === 'int4') { container = 'int8'; shifts = columnShifts(q, l.quant.zero, bits, RANGE.int8); }
  if (!shifts) { container = 'int32'; shifts = Int32Array.from(l.quant.zero); }
  const s = shifts;
  const zeroPoints = Int32Array.from(l.quant.zero, (z, o) => z - s[o]);
  const scales = Float32Array.from(l.quant.delta);
  const dequantized = Float32Array.from(q, (v, i) => f32(f32(v - l.quant.zero[i % cols]) * scales[i % cols]));
  const canonical = Int32Array.from(q, (v, i) => v - s[i % cols]);
  return { ...l, container, codes: l.axis === 0 ? transposeInt(canonical, l.weight.length / cols, cols) : canonical,
    zeroPoints, scales, dequantized, rounding: mask ? 'adaround' : 'nearest' };
}

/** [rows, cols] → [cols, rows]: the canonical patch weight [Cin·p·p, dim] as the Conv's [dim, Cin, p, p]. */
export function transposeInt(a: Int32Array, rows: number, cols: number): Int32Array {
  const t = new Int32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

export function transposeF32(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** Throws unless `stored.dequantized` equals the engine's fake-quantized weight bit for bit. */
export function assertSameWeights(stored: StoredWeight, engine: Float32Array): void {
  const a = new Uint32Array(stored.dequantized.buffer, stored.dequantized.byteOffset, stored.dequantized.length);
  const b = new Uint32Array(engine.buffer, engine.byteOffset, engine.length);
  if (a.length !== b.length) throw new InternalError(`Export: ${stored.name} has ${a.length} weights; the engine's has ${b.length}.`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(stored.dequantized[i]) && Number.isNaN(engine[i]))) {
      throw new InternalError(`Export: weight ${i} of ${stored.name} dequantizes to ${stored.dequantized[i]}, the engine computes with ${engine[i]}.`);
    }
  }
}
