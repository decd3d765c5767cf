/**
 * Recognises the MLP activation by evaluating it rather than by matching one spelling. Exporters write
 * GELU many ways (Div √2 or Mul 1/√2, the 0.5 first or last, x³ as Pow or Mul·Mul); all are elementwise
 * subgraphs from the fc1 output to a single tensor. We collect that subgraph, check that its only other
 * inputs are scalar constants, evaluate it at a few points and compare with exact and tanh GELU.
 * A single `Gelu` node (opset 20) is read from its `approximate` attribute.
 */
import type { GeluKind } from '../vit/description';
import { LIMITS } from './limits';
import { attrString, unsupported, type OnnxGraph } from './graph';
import type { NodeProto } from './proto';

const UNARY: Record<string, (a: number) => number> = {
  Erf: erf, Tanh: Math.tanh, Sqrt: Math.sqrt, Neg: (a) => -a, Exp: Math.exp, Abs: Math.abs,
  Sigmoid: (a) => 1 / (1 + Math.exp(-a)), Reciprocal: (a) => 1 / a, Identity: (a) => a,
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b, Pow: Math.pow,
};
const PROBES = [-4, -2.5, -1.3, -0.6, -0.1, 0.05, 0.4, 0.9, 1.7, 3.2];

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc), far below the 1e-4 gap between the two GELUs. */
function erf(x: number): number {
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

export const geluRef: Record<GeluKind, (x: number) => number> = {
  erf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
};

export interface GeluMatch { kind: GeluKind; out: string }

function isElementwise(n: NodeProto): boolean {
  const op = n.opType ?? '';
  return (op in UNARY && (n.input?.length ?? 0) === 1) || (op in BINARY && (n.input?.length ?? 0) === 2);
}

/** The elementwise nodes downstream of x, in evaluation order, and the one tensor leaving them. */
function collectRegion(g: OnnxGraph, x: string): { nodes: NodeProto[]; out: string } {
  const nodes: NodeProto[] = [];
  const exits = new Set<string>();
  const queue = [x];
  for (let qi = 0; qi < queue.length; qi++) {
    const t = queue[qi];
    for (const n of g.consumers(t)) {
      if (!isElementwise(n)) { exits.add(t); continue; }
      if (nodes.includes(n)) continue;
      if (nodes.length >= LIMITS.maxActivationNodes) throw unsupported(n, 'The MLP activation has too many nodes to be GELU');
      nodes.push(n);
      queue.push(n.output![0]);
    }
  }
  if (nodes.length === 0 || exits.size !== 1 || exits.has(x)) throw unsupported(g.soleConsumer(x), 'Expected a GELU activation after the first MLP layer');
  return { nodes, out: [...exits][0] };
}

/** Evaluates the region at x = v; inputs other than x and region tensors must be scalar constants. */
function evaluate(g: OnnxGraph, x: string, nodes: NodeProto[], out: string, v: number): number {
  const values = new Map<string, number>([[x, v]]);
  const produced = new Set(nodes.map((n) => n.output![0]));
  const arg = (n: NodeProto, name: string): number | undefined => {
    if (values.has(name)) return values.get(name);
    if (produced.has(name)) return undefined; // computed by a node not evaluated yet
    const s = g.scalar(name);
    if (s === null) throw unsupported(n, 'The MLP activation reads a tensor that is neither its input nor a scalar constant');
    return s;
  };
  // Repeated sweeps in lieu of a topological sort; the region is at most a few dozen nodes.
  let pending = nodes;
  for (let sweep = 0; pending.length > 0 && sweep <= nodes.length; sweep++) {
    pending = pending.filter((n) => {
      const args = (n.input ?? []).map((_, k) => arg(n, g.input(n, k)));
      if (args.some((a) => a === undefined)) return true;
      const [a, b] = args as number[];
      values.set(n.output![0], args.length === 1 ? UNARY[n.opType!](a) : BINARY[n.opType!](a, b));
      return false;
    });
  }
  if (!values.has(out)) throw unsupported(nodes[0], 'The MLP activation subgraph could not be evaluated');
  return values.get(out)!;
}

/** The GELU applied to `x` (the fc1 output). */
export function matchGelu(g: OnnxGraph, x: string): GeluMatch {
  const single = g.soleConsumer(x);
  if (single?.opType === 'Gelu') {
    const approx = attrString(single, 'approximate') ?? 'none';
    if (approx !== 'none' && approx !== 'tanh') throw unsupported(single, `Unknown GELU approximation '${approx}'`);
    return { kind: approx === 'tanh' ? 'tanh' : 'erf', out: single.output![0] };
  }
  const { nodes, out } = collectRegion(g, x);
  const got = PROBES.map((v) => evaluate(g, x, nodes, out, v));
  for (const kind of ['erf', 'tanh'] as const) {
    if (PROBES.every((v, i) => Math.abs(got[i] - geluRef[kind](v)) <= 1e-5 * (1 + Math.abs(v)))) return { kind, out };
  }
  const ops = nodes.map((n) => n.opType).join(', ');
  throw unsupported(nodes[0], `The MLP activation (${ops}) is neither exact (erf) nor tanh GELU`);
}
