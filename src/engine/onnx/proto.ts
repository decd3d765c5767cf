/**
 * Decoding the ONNX protobuf (through onnx-proto's generated protobufjs code) into a ModelProto, within
 * the decoder's limits (decode-guard.ts), with every other failure turned into an InvalidModelFileError;
 * models whose weights live in external data files are refused here, before anything else.
 */
import onnxProto from 'onnx-proto';
import { AdfqError, InvalidModelFileError, ModelWeightError } from '../errors';
import { guardedDecode } from './decode-guard';
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
    model = guardedDecode(bytes);
  } catch (e) {
    if (e instanceof AdfqError) throw e;
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
  refuseExternalData(g);
  return model;
}

/** The refusal of a tensor kept outside the .onnx file, saying how to bring it back in. */
export function externalDataError(what: string, location: string | null): ModelWeightError {
  return new ModelWeightError(`Tensor '${what}' is stored in an external data file${location ? ` ('${location}')` : ''}, which the studio cannot read: it only receives the .onnx file. `
    + 'Save the model with all weights inside the file, e.g. in Python: onnx.save(onnx.load("model.onnx"), "model-inline.onnx", save_as_external_data=False) (possible up to 2 GB).');
}

/** Any initializer or Constant value stored outside the file: one clear error up front, not one per weight later. */
function refuseExternalData(g: GraphProto): void {
  // Constant values are usually unnamed: they are named after the Constant's output.
  const tensors = [...(g.initializer ?? []).map((t) => ({ t, name: t.name })),
    ...(g.node ?? []).flatMap((n) => (n.attribute ?? []).flatMap((a) => [a.t, ...(a.tensors ?? [])].map((t) => ({ t, name: t?.name || n.output?.[0] || n.name }))))];
  for (const { t, name } of tensors) {
    if (t && (t.dataLocation === 1 || (t.externalData ?? []).length > 0)) {
      throw externalDataError(name || '?', (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? null);
    }
  }
}

/** The default-domain opset version the model imports. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? int64ToNumber(entry.version) : 0;
}
