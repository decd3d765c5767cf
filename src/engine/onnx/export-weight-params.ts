/**
 * The weights of an adfq-studio export and their per-output-channel quantizers (Δ, z).
 * Weights: the file's values, dequantized as DequantizeLinear defines it (export/read-export.ts), which are
 * exactly the engine's fake-quantized weights. Quantizers, best source first:
 *   'metadata'  Δ and z recorded per layer in `adfq.quant.weights` (delta/zero);
 *   'codes'     qdq: Δ is the DequantizeLinear scale; z = zp + s, where s is the shift the exporter applied
 *               to centre the codes (2^(b−1) unless a code or z hit the container's bound; export/
 *               weight-storage.ts columnShifts), recovered from the codes; int32 holds q − z only;
 *   'values'    fake-quant-weights: Δ from the spacing of the column's values, refined to the float32 that
 *               reproduces every value, z from the codes' range.
 * Whatever the source, nearest rounding of the file's weights with these quantizers must give the same
 * weights bit for bit (checked here per layer), so QuantViTRunner on the imported model computes with
 * exactly the exported weights. Columns where the file does not pin z (or Δ) down are counted as ambiguous.
 */
import { tensorSmallInts, readExportedWeights } from '../export/read-export.ts';
import { fakeQuantNearest } from '../quant/apply-cpu.ts';
import type { ChannelQuant } from '../quant/params.ts';
import type { WeightLayer } from '../quant/weight-rounding.ts';
import { f32, f32Bits, bitsF32 } from '../reference/quant/rounding.ts';
import { ExportMetadataError, type ExportMetadata, type ExportWeightRecord } from './export-metadata.ts';
import type { OnnxGraph } from './graph.ts';
import type { ModelProto } from './proto.ts';
import { tensorShape } from './tensor.ts';

export type WeightQuantSource = 'metadata' | 'codes' | 'values';

export interface ImportedWeights {
  /** Canonical [in, out] (patch: [Cin·p·p, dim]) weights by rounding-mask key. */
  values: Map<WeightLayer, Float32Array>;
  quant: Map<WeightLayer, ChannelQuant>;
  source: WeightQuantSource;
  ambiguousColumns: number;
}

const fail = (message: string): never => { throw new ExportMetadataError(message); };
const RANGE = { int4: [-8, 7], int8: [-128, 127] } as const;

/** Stored dims of each layer ([dim, Cin, p, p] for the patch Conv, [in, out] otherwise). */
export function storedDims(meta: ExportMetadata, key: WeightLayer): number[] {
  const s = meta.shape;
  if (key === 'patch') return [s.dim, s.inChannels, s.patch, s.patch];
  if (key === 'head' || key === 'headDist') return [s.dim, s.numClasses];
  const layer = key.slice(key.lastIndexOf('.') + 1);
  return layer === 'qkv' ? [s.dim, 3 * s.dim] : layer === 'fc1' ? [s.dim, s.mlpDim] : layer === 'fc2' ? [s.mlpDim, s.dim] : [s.dim, s.dim];
}

/** z of one channel from its stored codes' range [cmin, cmax] and zero point (see the file comment). */
function recoverZero(cmin: number, cmax: number, zp: number, bits: number, storage: ExportWeightRecord['storage']): { zero: number; ambiguous: boolean } {
  const top = 2 ** bits - 1, centre = 2 ** (bits - 1);
  if (storage === 'int32') {   // codes q − z with q ∈ [0, top]
    if (-cmin > top - cmax) fail(`Stored int32 codes span ${cmax - cmin + 1} levels; ${bits}-bit weights have ${top + 1}.`);
    return { zero: -cmin, ambiguous: -cmin !== top - cmax };
  }
  const [lo, hi] = RANGE[storage as 'int4' | 'int8'];
  const sLo = -cmin, sHi = top - cmax;   // q = c + s ∈ [0, top]
  const atTop = Math.max(cmax, zp) === hi, atBottom = Math.min(cmin, zp) === lo;
  const centred = sLo <= centre && centre <= sHi ? 1 : 0;
  const above = atTop ? Math.max(0, sHi - Math.max(centre + 1, sLo) + 1) : 0;
  const below = atBottom ? Math.max(0, Math.min(centre - 1, sHi) - sLo + 1) : 0;
  if (centred + above + below === 0) fail(`Stored ${storage} codes and zero point ${zp} fit no ${bits}-bit code range.`);
  const s = centred ? centre : above ? Math.max(centre + 1, sLo) : Math.min(centre - 1, sHi);
  return { zero: zp + s, ambiguous: centred + above + below > 1 };
}

/**
 * Δ, z of a column of fake-quantized float32 values (see the file comment), or why there are none. The
 * values are multiples of Δ (0 included): the coarsest grid gap/k (gap = the smallest spacing of the values
 * and 0) on which every value lies, refined on the largest code, then the float32 Δ nearby that reproduces
 * every value. A column that never uses two neighbouring codes may also fit a coarser grid: ambiguous.
 */
function inferColumn(values: number[], bits: number): { delta: number; zero: number; ambiguous: boolean } | string {
  const top = 2 ** bits - 1;
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const grid = [...new Set([0, ...distinct])].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < grid.length; i++) gap = Math.min(gap, grid[i] - grid[i - 1]);
  if (!Number.isFinite(gap)) return { delta: 1, zero: 2 ** (bits - 1), ambiguous: true };   // all zero: any Δ, any z in range
  let n: number[] | null = null, refined = NaN;
  for (let k = 1; k <= top && !n; k++) {
    const codes = distinct.map((v) => Math.round((v * k) / gap));
    if (codes[codes.length - 1] - codes[0] > top) break;
    let big = 0;
    codes.forEach((c, i) => { if (Math.abs(c) > Math.abs(codes[big])) big = i; });
    const d = distinct[big] / codes[big];
    if (distinct.every((v, i) => Math.abs(v / d - codes[i]) <= 1e-4)) { n = codes; refined = d; }
  }
  if (!n) return `its values are not on a ${bits}-bit uniform grid`;
  const fits: number[] = [];
  for (let step = 0; step <= 64; step++) {
    const d = bitsF32(f32Bits(f32(refined)) + (step % 2 ? (step + 1) / 2 : -step / 2));
    if (d > 0 && distinct.every((v, i) => f32(n![i] * d) === v)) fits.push(d);
  }
  if (fits.length === 0) return 'no float32 step size reproduces its values';
  const zLo = -n[0], zHi = top - n[n.length - 1];
  const zero = Math.min(Math.max(Math.round((top - n[0] - n[n.length - 1]) / 2), zLo), zHi);
  return { delta: fits[0], zero, ambiguous: fits.length > 1 || zLo !== zHi || distinct.length < 2 };
}

function layerQuant(g: OnnxGraph, rec: ExportWeightRecord, values: Float32Array, dims: number[], bits: number): { quant: ChannelQuant; ambiguous: number } {
  const channels = dims[rec.axis], inner = dims.slice(rec.axis + 1).reduce((a, b) => a * b, 1);
  if (rec.delta && rec.zero) {
    if (rec.delta.length !== channels || rec.zero.length !== channels || !rec.delta.every((d) => Number.isFinite(d) && d > 0) || !rec.zero.every(Number.isInteger)) {
      fail(`Its metadata gives ${rec.layer} ${rec.delta.length} step sizes and ${rec.zero.length} zero points; ${channels} positive steps and integer zero points are needed.`);
    }
    if (rec.scale) {
      const scale = g.floats(rec.scale)!.data;
      if (rec.delta.some((d, o) => f32(d) !== scale[o])) fail(`The step sizes of ${rec.layer} in its metadata differ from its DequantizeLinear scale '${rec.scale}'.`);
    }
    return { quant: { kind: 'channel', delta: rec.delta.slice(), zero: rec.zero.slice() }, ambiguous: 0 };
  }
  const quant: ChannelQuant = { kind: 'channel', delta: [], zero: [] };
  let ambiguous = 0;
  if (rec.storage === 'float32') {   // canonical values: channel o is column o of [rows, channels]
    for (let o = 0; o < channels; o++) {
      const column: number[] = [];
      for (let i = o; i < values.length; i += channels) column.push(values[i]);
      const c = inferColumn(column, bits);
      if (typeof c === 'string') return fail(`Channel ${o} of ${rec.layer}: ${c}.`);
      quant.delta.push(c.delta); quant.zero.push(c.zero); ambiguous += c.ambiguous ? 1 : 0;
    }
    return { quant, ambiguous };
  }
  const codes = tensorSmallInts(g.constTensor(rec.codes!)!.tensor, rec.codes!);
  const scale = g.floats(rec.scale!)!.data;
  const zp = rec.zeroPoint ? tensorSmallInts(g.constTensor(rec.zeroPoint)!.tensor, rec.zeroPoint) : new Int32Array(channels);
  if (scale.length !== channels || zp.length !== channels) fail(`The scale or zero point of ${rec.layer} does not hold ${channels} values.`);
  const cmin = new Array<number>(channels).fill(Infinity), cmax = new Array<number>(channels).fill(-Infinity);
  codes.forEach((c, i) => { const o = Math.floor(i / inner) % channels; if (c < cmin[o]) cmin[o] = c; if (c > cmax[o]) cmax[o] = c; });
  for (let o = 0; o < channels; o++) {
    if (!(scale[o] > 0 && Number.isFinite(scale[o]))) fail(`Channel ${o} of ${rec.layer} has the step size ${scale[o]}.`);
    const z = recoverZero(cmin[o], cmax[o], zp[o], bits, rec.storage);
    quant.delta.push(scale[o]); quant.zero.push(z.zero); ambiguous += z.ambiguous ? 1 : 0;
  }
  return { quant, ambiguous };
}

/** Every weight of the export with its quantizer; throws ExportMetadataError when they do not fit. */
export function readExportWeights(model: ModelProto, g: OnnxGraph, meta: ExportMetadata): ImportedWeights {
  const dimsOf = new Map<WeightLayer, number[]>();
  for (const [key, rec] of meta.weights) {
    const expect = storedDims(meta, key);
    for (const name of [rec.storage === 'float32' ? rec.output : rec.codes!, rec.scale, rec.zeroPoint]) {
      if (name !== undefined && !g.isConst(name)) fail(`Its weight layer ${rec.layer} names the tensor '${name}', which the file does not hold.`);
    }
    const main = g.constTensor(rec.storage === 'float32' ? rec.output : rec.codes!)!;
    const dims = tensorShape(main.tensor, main.source).dims;
    if (dims.join() !== expect.join()) fail(`The weight of ${rec.layer} is ${dims.join('×')}; the model in its metadata needs ${expect.join('×')}.`);
    if (rec.storage !== 'float32' && g.producer(rec.output)?.opType !== 'DequantizeLinear') fail(`The weight of ${rec.layer} ('${rec.output}') is not produced by a DequantizeLinear.`);
    dimsOf.set(key, dims);
  }
  const values = readExportedWeights(model) as Map<WeightLayer, Float32Array>;
  const quant = new Map<WeightLayer, ChannelQuant>();
  let ambiguousColumns = 0;
  for (const [key, rec] of meta.weights) {
    const w = values.get(key)!;
    const r = layerQuant(g, rec, w, dimsOf.get(key)!, meta.bitsW);
    // Nearest rounding of the file's (already rounded) weights must give them back bit for bit.
    const again = fakeQuantNearest(w, r.quant, meta.bitsW);
    for (let i = 0; i < w.length; i++) {
      if (f32Bits(again[i]) !== f32Bits(w[i])) fail(`Weight ${i} of ${rec.layer} (${w[i]}) is not a value of its ${meta.bitsW}-bit quantizer (which gives ${again[i]}).`);
    }
    quant.set(key, r.quant);
    ambiguousColumns += r.ambiguous;
  }
  const all = [...meta.weights.values()];
  const source: WeightQuantSource = all.every((r) => r.delta) ? 'metadata' : meta.format === 'qdq' ? 'codes' : 'values';
  return { values, quant, source, ambiguousColumns };
}
