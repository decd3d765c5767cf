/**
 * A graph under construction for the quantized export: nodes in topological order (each node is added
 * after the nodes producing its inputs), initializers, and unique names. Node names are scoped like
 * torch's exporter (`/blocks.0/attn/MatMul`), quantizer and weight tensors have stable names (README.md).
 */
import { InternalError } from '../errors.ts';
import { floatTensor, int64Tensor, node } from '../onnx/onnx-writer.ts';
import type { AttributeProto, NodeProto, TensorProto } from '../onnx/proto.ts';

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  constructor(readonly opset: number) {}

  /** `base`, or `base_1`, `base_2`, … when taken (node names and tensor names share one namespace). */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  has(name: string): boolean { return this.names.has(name); }

  /** Registers a graph input's name. */
  input(name: string): string {
    if (this.names.has(name)) throw new InternalError(`Export: the input name '${name}' is taken.`);
    this.names.add(name);
    return name;
  }

  /** Adds an initializer under its own name, which must be new. */
  add(t: TensorProto): string {
    const name = t.name ?? '';
    if (!name || this.names.has(name)) throw new InternalError(`Export: the tensor name '${name}' is empty or taken.`);
    this.names.add(name);
    this.initializers.push(t);
    return name;
  }

  /** A float32 initializer (a scalar when `dims` is []). */
  f32(name: string, values: number | ArrayLike<number>, dims: number[] = typeof values === 'number' ? [] : [values.length]): string {
    return this.add(floatTensor(name, dims, Float32Array.from(typeof values === 'number' ? [values] : values)));
  }

  i64(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.add(int64Tensor(name, dims, values));
  }

  /** A shared constant (`const/…`), added once however often it is asked for. */
  constF32(value: number): string {
    const name = `const/f32/${Math.fround(value)}`;
    return this.names.has(name) ? name : this.f32(name, value);
  }

  constI64(values: number[], scalar = false): string {
    const name = `const/i64/${scalar ? '' : '['}${values.join(',')}${scalar ? '' : ']'}`;
    return this.names.has(name) ? name : this.i64(name, values, scalar ? [] : [values.length]);
  }

  /**
   * One node named `name` (made unique); its single output is `output` or `<name>_output_0`. Returns the
   * output name.
   */
  op(opType: string, inputs: string[], name: string, attrs: Record<string, AttributeProto> = {}, output?: string): string {
    const nodeName = this.unique(name);
    const out = output ? this.unique(output) : this.unique(`${nodeName}_output_0`);
    if (output && out !== output) throw new InternalError(`Export: the tensor name '${output}' is taken.`);
    for (const i of inputs) if (i && !this.names.has(i)) throw new InternalError(`Export: node '${nodeName}' reads '${i}', which nothing produced.`);
    this.nodes.push(node(opType, inputs, [out], attrs, nodeName));
    return out;
  }
}
