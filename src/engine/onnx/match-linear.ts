/**
 * Recognises a Linear layer starting at a node that reads `x`: `MatMul(x, W)` (+ `Add` of a bias, in
 * either operand order) or `Gemm(x, W, b)`. W may be a pre-transposed `[in, out]` constant, a
 * `Transpose` of an `[out, in]` constant (exports without constant folding), or Gemm's transB form.
 * The result is always in the canonical `[in, out]` layout.
 */
import { ModelWeightError } from '../errors';
import { attrFloat, attrInt, attrInts, describeNode, type OnnxGraph } from './graph';
import { transpose2d } from './layouts';
import type { NodeProto } from './proto';

export interface LinearMatch {
  node: NodeProto;
  w: Float32Array; // [inDim, outDim]
  b: Float32Array; // [outDim]
  inDim: number;
  outDim: number;
  out: string;
  wSource: string;
  bSource: string;
}

/** A 2D constant, seen through a Transpose node; `transposed` tells whether it was stored `[out, in]`. */
function weight2d(g: OnnxGraph, name: string, node: NodeProto) {
  let transposed = false;
  let src = name;
  const p = g.producer(name);
  if (p?.opType === 'Transpose' && !g.isConst(name)) {
    const perm = attrInts(p, 'perm');
    if (perm && !(perm[0] === 1 && perm[1] === 0)) return null;
    transposed = true;
    src = g.input(p, 0);
  }
  const t = g.floats(src);
  if (!t) return null;
  if (t.dims.length !== 2) throw new ModelWeightError(`Weight '${t.source}' of ${describeNode(node)} has shape [${t.dims.join(', ')}]; a matrix was expected.`);
  return { ...t, transposed };
}

function bias(g: OnnxGraph, name: string, outDim: number, node: NodeProto, weight: string): { data: Float32Array; source: string } {
  const t = g.floats(name)!;
  if (t.data.length === outDim) return { data: t.data, source: t.source };
  if (t.data.length === 1) return { data: new Float32Array(outDim).fill(t.data[0]), source: t.source };
  throw new ModelWeightError(`Bias '${t.source}' of ${describeNode(node)} has ${t.data.length} values; weight '${weight}' has ${outDim} outputs.`);
}

/** The Linear layer starting at `node` (a data consumer of `x`), or null when `node` is not one. */
export function matchLinear(g: OnnxGraph, node: NodeProto, x: string): LinearMatch | null {
  if (g.input(node, 0) !== x) return null;
  if (node.opType === 'MatMul') {
    const wt = weight2d(g, g.input(node, 1), node);
    if (!wt) return null;
    const [inDim, outDim] = wt.transposed ? [wt.dims[1], wt.dims[0]] : wt.dims;
    const w = wt.transposed ? transpose2d(wt.data, outDim, inDim) : wt.data;
    const mm = node.output![0];
    const add = g.soleConsumer(mm);
    const bName = add?.opType === 'Add' ? g.otherInput(add, mm) : null;
    if (add && bName && g.isConst(bName)) {
      const b = bias(g, bName, outDim, add, wt.source);
      return { node, w, b: b.data, inDim, outDim, out: add.output![0], wSource: wt.source, bSource: b.source };
    }
    return { node, w, b: new Float32Array(outDim), inDim, outDim, out: mm, wSource: wt.source, bSource: '' };
  }
  if (node.opType === 'Gemm') {
    if (attrInt(node, 'transA', 0) !== 0) return null;
    const wt = g.floats(g.input(node, 1));
    if (!wt) return null;
    if (wt.dims.length !== 2) throw new ModelWeightError(`Weight '${wt.source}' of ${describeNode(node)} has shape [${wt.dims.join(', ')}]; a matrix was expected.`);
    const transB = attrInt(node, 'transB', 0) === 1;
    const [inDim, outDim] = transB ? [wt.dims[1], wt.dims[0]] : wt.dims;
    const w = transB ? transpose2d(wt.data, outDim, inDim) : wt.data;
    const alpha = attrFloat(node, 'alpha', 1), beta = attrFloat(node, 'beta', 1);
    if (alpha !== 1) for (let i = 0; i < w.length; i++) w[i] *= alpha;
    const bName = g.input(node, 2);
    if (bName && !g.isConst(bName)) return null;
    const b = bName ? bias(g, bName, outDim, node, wt.source) : { data: new Float32Array(outDim), source: '' };
    if (beta !== 1) for (let i = 0; i < b.data.length; i++) b.data[i] *= beta;
    return { node, w, b: b.data, inDim, outDim, out: node.output![0], wSource: wt.source, bSource: b.source };
  }
  return null;
}
