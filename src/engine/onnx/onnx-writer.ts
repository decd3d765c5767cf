/**
 * A small ONNX writer on onnx-proto's encoder: tensors, attributes, nodes and a model in a few calls.
 * Used by the tests to build and mutate models, and meant for exporting quantized models later.
 * Float data is written as little-endian raw_data (the compact form every runtime reads); int64 data too.
 */
import { ShapeError } from '../errors';
import { onnx, type AttributeProto, type ModelInit, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';

export type Dim = number | string; // a size, or a symbolic name such as 'batch'

/** TensorProto.DataType codes the writer emits. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, UINT4: 21, INT4: 22 } as const;
const FLOAT = ElemType.FLOAT, INT64 = ElemType.INT64;
const AttrType = onnx.AttributeProto.AttributeType;

export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { name, dims, dataType: FLOAT, rawData: raw };
}

export function int64Tensor(name: string, dims: number[], values: number[]): TensorProto {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return { name, dims, dataType: INT64, rawData: raw };
}

/** 8-bit integers (int8 or uint8 by `dataType`), one byte each in raw_data; values are range-checked. */
export function byteTensor(name: string, dims: number[], values: ArrayLike<number>, dataType: typeof ElemType.INT8 | typeof ElemType.UINT8): TensorProto {
  const [lo, hi] = dataType === ElemType.INT8 ? [-128, 127] : [0, 255];
  const raw = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new ShapeError(`Tensor '${name}': ${v} does not fit its 8-bit type.`);
    raw[i] = v & 255;
  }
  return { name, dims, dataType, rawData: raw };
}

/** 4-bit integers (int4 or uint4, opset 21), two per byte, the first element in the low nibble (ONNX's packing). */
export function nibbleTensor(name: string, dims: number[], values: ArrayLike<number>, dataType: typeof ElemType.INT4 | typeof ElemType.UINT4): TensorProto {
  const [lo, hi] = dataType === ElemType.INT4 ? [-8, 7] : [0, 15];
  const raw = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new ShapeError(`Tensor '${name}': ${v} does not fit its 4-bit type.`);
    raw[i >> 1] |= (v & 15) << (4 * (i & 1));
  }
  return { name, dims, dataType, rawData: raw };
}

export function int32Tensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isInteger(values[i]) || Math.abs(values[i]) > 2 ** 31 - 1) throw new ShapeError(`Tensor '${name}': ${values[i]} is not an int32.`);
    view.setInt32(4 * i, values[i], true);
  }
  return { name, dims, dataType: ElemType.INT32, rawData: raw };
}

/** Attribute builders: the ONNX attribute type is explicit, so 1 (int) and 1.0 (float) never mix up. */
export const attr = {
  int: (i: number): AttributeProto => ({ type: AttrType.INT, i }),
  ints: (ints: number[]): AttributeProto => ({ type: AttrType.INTS, ints }),
  float: (f: number): AttributeProto => ({ type: AttrType.FLOAT, f }),
  floats: (floats: number[]): AttributeProto => ({ type: AttrType.FLOATS, floats }),
  string: (s: string): AttributeProto => ({ type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: TensorProto): AttributeProto => ({ type: AttrType.TENSOR, t }),
};

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttributeProto> = {}, name = outputs[0]): NodeProto {
  const attribute = Object.entries(attrs).map(([key, a]) => ({ ...a, name: key }));
  return { opType, input: inputs, output: outputs, name, attribute };
}

/** A `Constant` node holding `t`, whose output is named after the tensor. */
export function constantNode(t: TensorProto): NodeProto {
  return node('Constant', [], [t.name ?? ''], { value: attr.tensor(t) }, `Constant_${t.name}`);
}

export function tensorInfo(name: string, dims: Dim[], elemType = FLOAT): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

export interface ModelSpec {
  nodes: NodeProto[];
  initializers?: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  opset: number;
  graphName?: string;
  producer?: string;
  metadata?: Record<string, string>;
  /** IR version; 8 by default (opset ≤ 17); int4 types and opset 21 need 10. */
  irVersion?: number;
  docString?: string;
}

export function buildModel(spec: ModelSpec): ModelInit {
  return {
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producer ?? 'adfq-studio',
    ...(spec.docString ? { docString: spec.docString } : {}),
    opsetImport: [{ domain: '', version: spec.opset }],
    graph: { name: spec.graphName ?? 'main', node: spec.nodes, initializer: spec.initializers ?? [], input: spec.inputs, output: spec.outputs },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/** Serialises a model (built here or decoded and edited) to .onnx bytes. */
export function encodeModel(model: ModelInit): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
