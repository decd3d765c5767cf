/**
 * Reading an export back: its metadata records and the weights it holds, dequantized as DequantizeLinear
 * defines it, f32((c − zp)·Δ) per output channel, and returned in our canonical [in, out] layout under the
 * rounding-mask keys ('patch', 'blocks.0.qkv', …). Used by the tests (the file's weights must equal the
 * engine's bit for bit) and meant for the importer's round trip.
 */
import { ModelWeightError } from '../errors.ts';
import { tensorFloats, tensorShape, tensorInts } from '../onnx/tensor.ts';
import { decodeModel, type ModelProto, type TensorProto } from '../onnx/proto.ts';
import { f32 } from '../reference/quant/rounding.ts';
import type { ActSiteRecord } from './act-quant-nodes.ts';
import type { WeightRecord } from './metadata.ts';
import { transposeF32 } from './weight-storage.ts';

export interface ExportRecords {
  format: string;
  version: string;
  sites: ActSiteRecord[];
  weights: WeightRecord[];
  metadata: Map<string, string>;
}

/** The exporter's metadata of a model, or null when it is not an adfq-studio export. */
export function readExportRecords(model: ModelProto): ExportRecords | null {
  const metadata = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const version = metadata.get('adfq.export.version');
  if (!version) return null;
  try {
    return { format: metadata.get('adfq.export.format') ?? '', version, metadata,
      sites: JSON.parse(metadata.get('adfq.quant.sites') ?? '[]'), weights: JSON.parse(metadata.get('adfq.quant.weights') ?? '[]') };
  } catch {
    throw new ModelWeightError('The export metadata (adfq.quant.sites / adfq.quant.weights) is not valid JSON.');
  }
}

/** Integer values of an int4/uint4/int8/uint8/int32 tensor (raw_data or int32_data). */
export function tensorSmallInts(t: TensorProto, what: string): Int32Array {
  const type = t.dataType ?? 0, { size } = tensorShape(t, what);
  if (type === 6 || type === 7) return Int32Array.from(tensorInts(t, what).data);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const out = new Int32Array(size);
  if (type === 21 || type === 22) {
    const packed = raw ?? Uint8Array.from(t.int32Data ?? []);
    if (packed.length !== Math.ceil(size / 2)) throw new ModelWeightError(`Tensor '${what}' has ${packed.length} bytes; ${size} 4-bit values need ${Math.ceil(size / 2)}.`);
    for (let i = 0; i < size; i++) {
      const v = (packed[i >> 1] >> (4 * (i & 1))) & 15;
      out[i] = type === 22 && v > 7 ? v - 16 : v;
    }
    return out;
  }
  if (type !== 2 && type !== 3) throw new ModelWeightError(`Tensor '${what}' has data type ${type}; an integer tensor was expected.`);
  const src: ArrayLike<number> = raw ?? t.int32Data ?? [];
  if (src.length !== size) throw new ModelWeightError(`Tensor '${what}' holds ${src.length} values; its shape needs ${size}.`);
  for (let i = 0; i < size; i++) out[i] = type === 3 ? ((src[i] << 24) >> 24) : src[i] & 255;
  return out;
}

/** Every weight of an export, dequantized (or read as FP32), canonical layout, by rounding-mask key. */
export function readExportedWeights(bytes: Uint8Array | ModelProto): Map<string, Float32Array> {
  const model = bytes instanceof Uint8Array ? decodeModel(bytes) : bytes;
  const records = readExportRecords(model);
  if (!records) throw new ModelWeightError('This model has no adfq-studio export metadata.');
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const get = (name: string | undefined) => {
    const t = name ? inits.get(name) : undefined;
    if (!t) throw new ModelWeightError(`The export names the tensor '${name}', which it does not hold.`);
    return t;
  };
  const out = new Map<string, Float32Array>();
  for (const w of records.weights) {
    let values: Float32Array, dims: number[];
    if (w.storage === 'float32') {
      ({ data: values, dims } = tensorFloats(get(w.output), w.output));
    } else {
      const codesT = get(w.codes);
      dims = tensorShape(codesT, w.codes!).dims;
      const codes = tensorSmallInts(codesT, w.codes!);
      const scale = tensorFloats(get(w.scale), w.scale!).data;
      const zp = w.zeroPoint ? tensorSmallInts(get(w.zeroPoint), w.zeroPoint) : new Int32Array(scale.length);
      const inner = dims.slice(w.axis + 1).reduce((a, b) => a * b, 1), channels = dims[w.axis];
      values = Float32Array.from(codes, (c, i) => {
        const o = Math.floor(i / inner) % channels;
        return f32(f32(c - zp[o]) * scale[o]);
      });
    }
    // The patch Conv's [dim, Cin, p, p] (axis 0) back to [Cin·p·p, dim].
    out.set(w.key, w.axis === 0 ? transposeF32(values, dims[0], values.length / dims[0]) : values);
  }
  return out;
}
