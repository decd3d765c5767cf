/**
 * A small ONNX writer on onnx-proto's encoder: tensors, attributes, nodes and a model in a few calls.
 * Used by the tests to build and mutate models, and meant for exporting quantized models later.
 * Float data is written as little-endian raw_data (the compact form every runtime reads); int64 data too.
 */
import { onnx, type AttributeProto, type ModelInit, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';

export type Dim = number | string; // a size, or a symbolic name such as 'batch'

const FLOAT = 1, INT64 = 7;
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
}

export function buildModel(spec: ModelSpec): ModelInit {
  return {
    irVersion: 8,
    producerName: spec.producer ?? 'adfq-studio',
    opsetImport: [{ domain: '', version: spec.opset }],
    graph: { name: spec.graphName ?? 'main', node: spec.nodes, initializer: spec.initializers ?? [], input: spec.inputs, output: spec.outputs },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/** Serialises a model (built here or decoded and edited) to .onnx bytes. */
export function encodeModel(model: ModelInit): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
