/**
 * Recognises a LayerNorm over the last axis applied to a tensor: either one `LayerNormalization` node
 * (opset 17+) or the decomposition torch emits below opset 17:
 *   m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2)); y = Div(d, Sqrt(Add(v, eps))) · γ + β
 */
import { attrFloat, attrInt, attrInts, type OnnxGraph } from './graph';
import type { NodeProto } from './proto';

export interface LayerNormMatch {
  out: string;
  gamma: string | null;
  beta: string | null;
  eps: number;
  /** Nodes reading the input tensor (so the caller can tell the residual branch apart). */
  entry: NodeProto[];
}

/** Axes of a ReduceMean: the attribute (opset < 18) or the second input (opset 18). */
function reducesLastAxis(g: OnnxGraph, n: NodeProto): boolean {
  const axes = attrInts(n, 'axes') ?? (n.input?.[1] ? g.ints(g.input(n, 1)) : null);
  return !!axes && axes.length === 1 && (axes[0] === -1 || axes[0] === 2) && attrInt(n, 'keepdims', 1) === 1;
}

function only(g: OnnxGraph, name: string, op: string): NodeProto | null {
  const c = g.soleConsumer(name);
  return c && c.opType === op ? c : null;
}

function matchFused(g: OnnxGraph, n: NodeProto): LayerNormMatch | null {
  const axis = attrInt(n, 'axis', -1);
  if (axis !== -1 && axis !== 2) return null;
  return { out: n.output![0], gamma: g.input(n, 1) || null, beta: g.input(n, 2) || null, eps: attrFloat(n, 'epsilon', 1e-5), entry: [n] };
}

function matchDecomposed(g: OnnxGraph, x: string, mean: NodeProto): LayerNormMatch | null {
  if (!reducesLastAxis(g, mean)) return null;
  const sub = g.consumers(x).find((n) => n.opType === 'Sub' && g.input(n, 0) === x && g.input(n, 1) === mean.output![0]);
  if (!sub) return null;
  const d = sub.output![0];
  const users = g.consumers(d);
  const sq = users.find((n) => (n.opType === 'Pow' && g.scalar(g.input(n, 1)) === 2) || (n.opType === 'Mul' && g.input(n, 0) === d && g.input(n, 1) === d));
  const div = users.find((n) => n.opType === 'Div' && g.input(n, 0) === d);
  if (!sq || !div || users.length !== 2) return null;
  const varMean = only(g, sq.output![0], 'ReduceMean');
  if (!varMean || !reducesLastAxis(g, varMean)) return null;
  const addEps = only(g, varMean.output![0], 'Add');
  const eps = addEps && g.scalar(g.otherInput(addEps, varMean.output![0]) ?? '');
  if (!addEps || eps === null || eps === undefined) return null;
  const sqrt = only(g, addEps.output![0], 'Sqrt');
  if (!sqrt || g.input(div, 1) !== sqrt.output![0]) return null;
  // The affine part is optional (elementwise_affine=False exports stop at the Div).
  let out = div.output![0];
  let gamma: string | null = null, beta: string | null = null;
  const mul = only(g, out, 'Mul');
  const gammaName = mul && g.otherInput(mul, out);
  if (mul && gammaName && g.isConst(gammaName)) { gamma = gammaName; out = mul.output![0]; }
  const add = only(g, out, 'Add');
  const betaName = add && g.otherInput(add, out);
  if (add && betaName && g.isConst(betaName)) { beta = betaName; out = add.output![0]; }
  return { out, gamma, beta, eps, entry: [mean, sub] };
}

/** The LayerNorm reading `x`, or null when there is none. */
export function matchLayerNorm(g: OnnxGraph, x: string): LayerNormMatch | null {
  for (const n of g.consumers(x)) {
    if (n.opType === 'LayerNormalization' && g.input(n, 0) === x) return matchFused(g, n);
    if (n.opType === 'ReduceMean' && g.input(n, 0) === x) return matchDecomposed(g, x, n);
  }
  return null;
}
