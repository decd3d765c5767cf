/**
 * Mutations of the decoded model's tensors, re-encoded with the engine's writer: inflated, negative,
 * 64-bit and high-rank dims, element counts that disagree with the bytes present, swapped or unknown data
 * types (some converted faithfully, which must still import), and external-data markers.
 */
import { encodeModel } from '../../src/engine/onnx/onnx-writer';
import { onnx, type ModelProto, type TensorProto } from '../../src/engine/onnx/proto';
import type { Mutator, Seed } from './mutate-bytes';
import type { Rng } from './rng';

export type ModelEdit = (m: ModelProto, rng: Rng) => string;
/** Every structural edit, so that `multi` (mutate-graph.ts) can stack several on one model. */
export const EDITS: ModelEdit[] = [];

/** A fresh, mutable copy of the seed, edited by `fn` (which returns a description) and re-encoded. */
export function edit(fn: ModelEdit): Mutator {
  EDITS.push(fn);
  return (seed: Seed, rng: Rng) => {
    const m = onnx.ModelProto.decode(seed.bytes);
    const what = fn(m, rng);
    return { bytes: encodeModel(m), what };
  };
}

/** Every tensor a model holds: initializers and Constant values. */
export function tensorsOf(m: ModelProto): { t: TensorProto; where: string }[] {
  const out = (m.graph!.initializer ?? []).map((t) => ({ t, where: `initializer '${t.name}'` }));
  for (const n of m.graph!.node ?? []) for (const a of n.attribute ?? []) if (a.t) out.push({ t: a.t, where: `Constant '${n.name}'` });
  return out;
}

const dimsOf = (t: TensorProto): number[] => (t.dims ?? []).map((d) => Number(d.toString()));
const BIG = [2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -1, -(2 ** 31), 0];
// 64-bit values as protobufjs writes them ({low, high}): -2^63, 2^64 − 1 (unsigned), ~2^63.
const LONGS = [{ low: 0, high: 0x80000000, unsigned: false }, { low: 0xffffffff, high: 0xffffffff, unsigned: true }, { low: 5, high: 0x7fffffff, unsigned: false }];

const dims = edit((m, rng) => {
  const { t, where } = rng.pick(tensorsOf(m));
  const d = dimsOf(t);
  const choice = rng.int(8);
  if (choice === 0) t.dims = d.map((x) => x * 1000);
  else if (choice === 1 && d.length > 0) t.dims = d.map((x, i) => (i === rng.int(d.length) ? rng.pick(BIG) : x));
  else if (choice === 2) t.dims = [...d, rng.pick(LONGS)] as never;
  else if (choice === 3) t.dims = [...new Array<number>(rng.range(9, 12) - d.length).fill(1), ...d];
  // The largest shape the limits allow, with the data of the original: exercises "allocate, then check".
  else if (choice === 4) t.dims = rng.pick([[2 ** 28], [2 ** 14, 2 ** 14], [2 ** 27, 2], [1, 1, 2 ** 28]]);
  else if (choice === 5) t.dims = [...d].reverse();
  else if (choice === 6) t.dims = d.slice(1);
  else t.dims = [...d, rng.pick([1, 2, 3])];
  return `dims of ${where}: [${d}] -> [${(t.dims ?? []).map(String)}]`;
});

/** The image input's type: a dim, its rank or its element type (the importer reads all three). */
const inputDims = edit((m, rng) => {
  const tt = m.graph!.input?.[0]?.type?.tensorType, dim = tt?.shape?.dim ?? [];
  if (!tt || dim.length === 0) return 'no input dims';
  const choice = rng.int(4);
  if (choice === 1) { tt.elemType = rng.pick([0, 7, 10, 11, 99]); return `input element type -> ${tt.elemType}`; }
  if (choice === 2) { tt.shape!.dim = rng.chance(0.5) ? dim.slice(1) : [...dim, { dimValue: 1 }]; return `input rank -> ${tt.shape!.dim.length}`; }
  const i = rng.int(dim.length), v = rng.pick([...BIG, 3, 2 ** 20, { low: 0, high: 0x80000000, unsigned: false }]);
  dim[i] = choice === 3 ? { dimParam: rng.pick(['', 'batch', 'h']) } : { dimValue: v as number };
  return `input dim ${i} -> ${choice === 3 ? dim[i].dimParam : JSON.stringify(v)}`;
});

const counts = edit((m, rng) => {
  const { t, where } = rng.pick(tensorsOf(m));
  const raw = t.rawData ?? new Uint8Array(0);
  const choice = rng.int(6);
  if (choice === 0) t.rawData = raw.slice(0, Math.max(0, raw.length - rng.pick([1, 4, 8, raw.length >> 1])));
  else if (choice === 1) t.rawData = new Uint8Array([...raw, 0, 0, 0, 0]);
  else if (choice === 2) t.rawData = new Uint8Array(0);  // a shape but no data at all
  else if (choice === 3) { t.rawData = new Uint8Array(0); t.floatData = new Array<number>(Math.max(0, Math.floor(raw.length / 4) + rng.pick([-1, 1, 100]))).fill(0.5); }
  else if (choice === 4) { t.rawData = new Uint8Array(0); t.int64Data = new Array<number>(Math.max(0, Math.floor(raw.length / 8) + rng.pick([-1, 1]))).fill(1); }
  else { t.dims = [...dimsOf(t), 1000]; }
  return `counts of ${where} (${choice})`;
});

const TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 21, 22, 99, -1, 2 ** 31 - 1];

/** Float32 raw data rewritten as another float type, faithfully (the import must still succeed). */
function convert(t: TensorProto, to: 'double' | 'doubleData' | 'half' | 'halfData' | 'bf16' | 'floatData'): void {
  const raw = t.rawData!, n = raw.length / 4, src = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const values = Array.from({ length: n }, (_, i) => src.getFloat32(4 * i, true));
  const bits = (v: number) => { const f = new DataView(new ArrayBuffer(4)); f.setFloat32(0, v); return f.getUint32(0); };
  const half = (v: number) => { const b = bits(v); return ((b >>> 16) & 0x8000) | Math.max(0, Math.min(31, ((b >>> 23) & 0xff) - 112)) << 10 | ((b >>> 13) & 0x3ff); };
  t.rawData = new Uint8Array(0);
  if (to === 'floatData') { t.floatData = values; return; }
  if (to === 'doubleData') { t.dataType = 11; t.doubleData = values; return; }
  if (to === 'halfData') { t.dataType = 10; t.int32Data = values.map(half); return; }
  const size = to === 'double' ? 8 : 2, out = new DataView(new ArrayBuffer(n * size));
  values.forEach((v, i) => (to === 'double' ? out.setFloat64(8 * i, v, true) : out.setUint16(2 * i, to === 'half' ? half(v) : bits(v) >>> 16, true)));
  t.dataType = to === 'double' ? 11 : to === 'half' ? 10 : 16;
  t.rawData = new Uint8Array(out.buffer);
}

const dtype = edit((m, rng) => {
  const { t, where } = rng.pick(tensorsOf(m));
  if (t.dataType === 1 && (t.rawData?.length ?? 0) > 0 && rng.chance(0.4)) {
    const to = rng.pick(['double', 'doubleData', 'half', 'halfData', 'bf16', 'floatData'] as const);
    convert(t, to);
    return `convert ${where} to ${to}`;
  }
  const from = t.dataType, to = rng.pick(TYPES);
  t.dataType = to;
  return `data type of ${where}: ${from} -> ${to}`;
});

const external = edit((m, rng) => {
  const { t, where } = rng.pick(tensorsOf(m));
  const entries = [{ key: 'location', value: rng.pick(['weights.bin', '../../etc/passwd', '']) }, { key: 'offset', value: '0' }, { key: 'length', value: String(t.rawData?.length ?? 0) }];
  const choice = rng.int(4);
  if (choice === 0) { t.dataLocation = 1; t.externalData = entries; t.rawData = new Uint8Array(0); }
  else if (choice === 1) { t.dataLocation = 1; t.externalData = entries; }
  else if (choice === 2) t.externalData = entries;
  else t.dataLocation = rng.pick([1, 2, 99]) as never;
  return `external data on ${where} (${choice})`;
});

const WEIRD_INTS = [0n, -1n, -2n, 1n, 3n, 2n ** 31n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n];
const WEIRD_FLOATS = [NaN, Infinity, -Infinity, 0, -0, -1, 1e-45, 3e38, 2];

/** One value of a small constant (a Reshape target, a Gather index, a scale, an epsilon…) made odd. */
const values = edit((m, rng) => {
  const small = tensorsOf(m).filter(({ t }) => (t.rawData?.length ?? 0) > 0 && (t.rawData!.length <= 64) && (t.dataType === 1 || t.dataType === 7));
  if (small.length === 0) return 'no small constant';
  const { t, where } = rng.pick(small), raw = t.rawData!.slice(), view = new DataView(raw.buffer);
  const size = t.dataType === 1 ? 4 : 8, i = rng.int(raw.length / size);
  const v = t.dataType === 1 ? rng.pick(WEIRD_FLOATS) : rng.pick(WEIRD_INTS);
  if (typeof v === 'number') view.setFloat32(4 * i, v, true); else view.setBigInt64(8 * i, v, true);
  t.rawData = raw;
  return `value ${i} of ${where} -> ${v}`;
});

export const TENSOR_MUTATORS: Record<string, Mutator> = { dims, inputDims, counts, dtype, external, values };
