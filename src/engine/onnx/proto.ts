/**
 * Decoding the ONNX protobuf (through onnx-proto's generated protobufjs code) into a ModelProto,
 * with every failure turned into an InvalidModelFileError.
 */
import onnxProto from 'onnx-proto';
import { InvalidModelFileError, ModelWeightError } from '../errors';
import { LIMITS } from './limits';

// onnx-proto is CommonJS; its default export is the protobufjs root holding the `onnx` namespace.
export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
/** A model as plain properties (what the writer builds and the encoder takes). */
export type ModelInit = onnxProto.onnx.IModelProto;

/** protobufjs gives 64-bit fields as Long objects when the `long` package is present, else as numbers. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean };

/** A 64-bit field as a JS number, or NaN when it does not fit a double exactly. */
export function int64ToNumber(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : NaN;
  const high = v.unsigned ? v.high >>> 0 : v.high | 0;
  const n = high * 2 ** 32 + (v.low >>> 0);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** Decode the bytes of a .onnx file; throws InvalidModelFileError for anything that is not an ONNX model. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new InvalidModelFileError('The model file is empty.');
  }
  if (bytes.length > LIMITS.maxFileBytes) {
    throw new InvalidModelFileError('The model file is larger than 2 GiB; ONNX files with external data are not supported.');
  }
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    // protobufjs throws plain Errors/RangeErrors ("index out of range", "invalid wire type") on garbage.
    const why = e instanceof Error ? e.message : String(e);
    throw new InvalidModelFileError(`This is not an ONNX model file (protobuf decoding failed: ${why}). It may be truncated or another format.`);
  }
  const g = model.graph;
  // Random bytes occasionally decode as a protobuf; a real model has an IR version, an opset and a graph.
  const ir = int64ToNumber(model.irVersion);
  if (!g || !(ir >= 1 && ir <= 100) || (model.opsetImport ?? []).length === 0 || (g.node ?? []).length === 0) {
    throw new InvalidModelFileError('This is not an ONNX model file: it has no IR version, opset or graph.');
  }
  if ((g.node?.length ?? 0) + (g.initializer?.length ?? 0) > LIMITS.maxNodes) {
    throw new ModelWeightError(`The graph has more than ${LIMITS.maxNodes} nodes and initializers; that is not a ViT.`);
  }
  return model;
}

/** The default-domain opset version the model imports. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? int64ToNumber(entry.version) : 0;
}
