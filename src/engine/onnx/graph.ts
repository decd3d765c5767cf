/**
 * Graph utilities over the decoded ONNX graph: who produces and who consumes each tensor, attribute
 * access, and constants (initializers and `Constant` nodes, seen through Identity), decoded lazily.
 */
import { ModelWeightError, UnsupportedModelError } from '../errors';
import { int64ToNumber, type AttributeProto, type GraphProto, type Int64, type NodeProto, type TensorProto } from './proto';
import { tensorFloats, tensorInts, tensorShape } from './tensor';

/** Ops that only read a tensor's shape, so they never count as data consumers. */
const SHAPE_READERS = new Set(['Shape', 'Size']);
/** Ops that pass data through unchanged at inference. */
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

export function describeNode(n: NodeProto): string {
  return `${n.opType || 'op-less'} node '${n.name || n.output?.[0] || '?'}'`;
}

export class OnnxGraph {
  readonly nodes: NodeProto[];
  private readonly producers = new Map<string, NodeProto>();
  private readonly consumerMap = new Map<string, NodeProto[]>();
  private readonly initializers = new Map<string, TensorProto>();

  constructor(readonly graph: GraphProto) {
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    for (const n of this.nodes) {
      for (const o of n.output ?? []) if (o) this.producers.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        // A node reading `i` twice is listed once; its entries are adjacent (nodes are visited in turn),
        // so checking the last one keeps this linear when thousands of nodes read one tensor.
        const list = this.consumerMap.get(i);
        if (list) { if (list[list.length - 1] !== n) list.push(n); } else this.consumerMap.set(i, [n]);
      }
    }
  }

  /**
   * The graph must be well formed before any walk: every node input is a graph input, an initializer or
   * another node's output (a dangling name is a missing weight); every tensor has one producer; there is
   * no cycle (Kahn's topological sort). With these, no walk over the graph can come back to where it was.
   */
  checkReferences(): void {
    const inputs = new Set((this.graph.input ?? []).map((i) => i.name));
    for (const n of this.nodes) for (const i of n.input ?? []) {
      if (i && !inputs.has(i) && !this.initializers.has(i) && !this.producers.has(i)) {
        throw new ModelWeightError(`Tensor '${i}' read by ${describeNode(n)} is missing from the file.`);
      }
    }
    const produced = new Set<string>();
    for (const n of this.nodes) for (const o of n.output ?? []) {
      if (!o) continue;
      if (produced.has(o) || inputs.has(o) || this.initializers.has(o)) {
        throw new UnsupportedModelError(`Tensor '${o}' is written by ${describeNode(n)} and also by another node, input or initializer; ONNX requires unique tensor names, so the file is corrupt.`);
      }
      produced.add(o);
    }
    this.checkAcyclic();
  }

  private checkAcyclic(): void {
    const pending = new Map<NodeProto, number>();
    const ready: NodeProto[] = [];
    for (const n of this.nodes) {
      const count = (n.input ?? []).filter((i) => i && this.producers.has(i)).length;
      pending.set(n, count);
      if (count === 0) ready.push(n);
    }
    let done = 0;
    for (let n = ready.pop(); n; n = ready.pop()) {
      done++;
      for (const o of n.output ?? []) for (const c of (o && this.consumerMap.get(o)) || []) {
        const left = pending.get(c)! - (c.input ?? []).filter((i) => i === o).length;
        pending.set(c, left);
        if (left === 0) ready.push(c);
      }
    }
    if (done < this.nodes.length) {
      const stuck = this.nodes.find((n) => pending.get(n)! > 0)!;
      throw new UnsupportedModelError(`The graph has a cycle: ${describeNode(stuck)} depends on its own output. An ONNX graph must be acyclic; the file is corrupt.`);
    }
  }

  producer(name: string): NodeProto | undefined { return this.producers.get(name); }

  /** Consumers that read the data, looking through Identity/Dropout (whose outputs are followed, each once). */
  consumers(name: string): NodeProto[] {
    const out = new Set<NodeProto>(), seen = new Set([name]);
    const visit = (t: string, depth: number): void => {
      for (const n of this.consumerMap.get(t) ?? []) {
        if (SHAPE_READERS.has(n.opType ?? '')) continue;
        const next = n.output?.[0] ?? '';
        if (PASS_THROUGH.has(n.opType ?? '') && n.input?.[0] === t && depth < 8) {
          // `seen` keeps a corrupt graph's Identity loops from multiplying the walk.
          if (!seen.has(next)) { seen.add(next); visit(next, depth + 1); }
        } else out.add(n);
      }
    };
    visit(name, 0);
    return [...out];
  }

  /** The one data consumer of `name`, or null. */
  soleConsumer(name: string): NodeProto | null {
    const c = this.consumers(name);
    return c.length === 1 ? c[0] : null;
  }

  /** Input `i` of node `n`, with Identity/Dropout producers skipped. */
  input(n: NodeProto, i: number): string {
    let name = n.input?.[i] ?? '';
    for (let k = 0; k < 8; k++) {
      const p = this.producers.get(name);
      if (!p || !PASS_THROUGH.has(p.opType ?? '')) break;
      name = p.input?.[0] ?? '';
    }
    return name;
  }

  /** The other input of a binary node, given one of them (null when `known` is not an input). */
  otherInput(n: NodeProto, known: string): string | null {
    const a = this.input(n, 0), b = this.input(n, 1);
    return a === known ? b : b === known ? a : null;
  }

  /** The TensorProto behind `name` when it is a constant: an initializer or a Constant node's value. */
  constTensor(name: string, depth = 0): { tensor: TensorProto; source: string } | null {
    if (depth > 8) return null;
    const init = this.initializers.get(name);
    if (init) return { tensor: init, source: name };
    const p = this.producers.get(name);
    if (!p) return null;
    if (PASS_THROUGH.has(p.opType ?? '')) return this.constTensor(p.input?.[0] ?? '', depth + 1);
    if (p.opType !== 'Constant') return null;
    const a = p.attribute?.[0];
    if (!a) return null;
    if (a.t) return { tensor: a.t, source: name };
    // value_float(s) / value_int(s): build an equivalent TensorProto.
    if (a.name === 'value_float') return { tensor: { dataType: 1, dims: [], floatData: [a.f ?? 0] }, source: name };
    if (a.name === 'value_floats') return { tensor: { dataType: 1, dims: [a.floats?.length ?? 0], floatData: a.floats ?? [] }, source: name };
    if (a.name === 'value_int') return { tensor: { dataType: 7, dims: [], int64Data: [a.i ?? 0] }, source: name };
    if (a.name === 'value_ints') return { tensor: { dataType: 7, dims: [a.ints?.length ?? 0], int64Data: a.ints ?? [] }, source: name };
    return null;
  }

  /** `name` itself, or an Identity copy of it, when it is one of the graph outputs. */
  outputNameOf(name: string, outputs: string[]): string | null {
    if (outputs.includes(name)) return name;
    const copy = (this.consumerMap.get(name) ?? []).find((n) => PASS_THROUGH.has(n.opType ?? '') && outputs.includes(n.output?.[0] ?? ''));
    return copy ? copy.output![0] : null;
  }

  isConst(name: string): boolean { return this.constTensor(name) !== null; }

  floats(name: string): { dims: number[]; data: Float32Array; source: string } | null {
    const c = this.constTensor(name);
    return c ? { ...tensorFloats(c.tensor, c.source), source: c.source } : null;
  }

  ints(name: string): number[] | null {
    const c = this.constTensor(name);
    return c ? tensorInts(c.tensor, c.source).data : null;
  }

  /** A constant holding a single number (any float or int type), or null. */
  scalar(name: string): number | null {
    const c = this.constTensor(name);
    if (!c || tensorShape(c.tensor, c.source).size !== 1) return null;
    const type = c.tensor.dataType;
    return type === 6 || type === 7 ? tensorInts(c.tensor, c.source).data[0] : tensorFloats(c.tensor, c.source).data[0];
  }
}

function findAttr(n: NodeProto, name: string): AttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(n: NodeProto, name: string, fallback: number): number {
  const a = findAttr(n, name);
  return a ? int64ToNumber(a.i as Int64) : fallback;
}

export function attrInts(n: NodeProto, name: string): number[] | null {
  const a = findAttr(n, name);
  return a ? (a.ints ?? []).map((v) => int64ToNumber(v as Int64)) : null;
}

export function attrFloat(n: NodeProto, name: string, fallback: number): number {
  const a = findAttr(n, name);
  return a ? (a.f ?? fallback) : fallback;
}

export function attrString(n: NodeProto, name: string): string | null {
  const a = findAttr(n, name);
  return a?.s ? new TextDecoder().decode(a.s) : null;
}

/** Shorthand for the errors pattern recognisers raise. */
export function unsupported(where: NodeProto | null | undefined, message: string): UnsupportedModelError {
  return new UnsupportedModelError(where ? `${message} (at ${describeNode(where)}).` : `${message}.`);
}
