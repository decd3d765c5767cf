/**
 * Recognises multi-head self-attention from the LayerNorm output `h` to the tensor entering the output
 * projection: one fused qkv Linear (timm) or three q/k/v Linears (Hugging Face), q·kᵀ with any scalar
 * scaling on q, k or the scores, Softmax over the last axis, ·v, and the merge of heads back to [B, N, C].
 * The q/k/v weights are gathered into the canonical fused `[dim, 3*dim]` layout.
 */
import { ModelWeightError } from '../errors';
import { attrInt, attrInts, unsupported, type OnnxGraph } from './graph';
import { walkProjection, type Arrival } from './attention-walk';
import { gatherQkvBias, gatherQkvColumns } from './layouts';
import { matchLinear, type LinearMatch } from './match-linear';
import type { NodeProto } from './proto';
import { reshapeTarget } from './shape-eval';

export interface AttentionMatch {
  heads: number;
  qkvW: Float32Array;
  qkvB: Float32Array;
  /** The merged-heads tensor [B, N, C] that feeds the output projection. */
  out: string;
  linears: LinearMatch[];
}

/** Names an arrival's axes as B, N, H, D: parts other than the slot part are the heads, then the channels. */
function headLabels(a: Arrival): { labels: string[]; heads: number; headDim: number; order: string[] } {
  const rest = a.parts.map((_, i) => i).filter((i) => i !== a.slotPart);
  if (rest.length !== 2) throw unsupported(a.matmul, 'Cannot tell the head axis from the channel axis');
  const name: Record<string, string> = { [`R${rest[0]}`]: 'H', [`R${rest[1]}`]: 'D', B: 'B', N: 'N' };
  const order = a.parts.map((_, i) => (i === a.slotPart ? 'S' : i === rest[0] ? 'H' : 'D'));
  return { labels: a.labels.map((l) => name[l] ?? l), heads: a.parts[rest[0]], headDim: a.parts[rest[1]], order };
}

/** From the scores MatMul to the value MatMul: scalar scaling, then Softmax over the last axis. */
function followScores(g: OnnxGraph, scores: NodeProto, valueMatmul: NodeProto, opset: number): number {
  let t = scores.output![0], scale = 1, softmax = false;
  for (let guard = 0; guard < 8; guard++) {
    const n = g.soleConsumer(t);
    if (!n) throw unsupported(scores, 'Attention scores have an unexpected fan-out');
    if (n === valueMatmul && softmax && g.input(n, 0) === t) return scale;
    if (n.opType === 'Softmax' && !softmax) {
      const axis = attrInt(n, 'axis', opset >= 13 ? -1 : 1);
      if (axis !== -1 && axis !== 3) throw unsupported(n, `Softmax over axis ${axis}; attention needs the last axis`);
      softmax = true;
    } else if ((n.opType === 'Mul' || n.opType === 'Div') && !softmax) {
      const c = g.scalar(g.otherInput(n, t) ?? '');
      if (c === null || c === 0 || (n.opType === 'Div' && g.input(n, 0) !== t)) throw unsupported(n, 'Unsupported operation on the attention scores');
      scale *= n.opType === 'Mul' ? c : 1 / c;
    } else throw unsupported(n, 'Unsupported operation on the attention scores');
    t = n.output![0];
  }
  throw unsupported(scores, 'Could not follow the attention scores to the value MatMul');
}

/** From the value MatMul [B, H, N, D] to the merged [B, N, H*D] tensor. */
function followMerge(g: OnnxGraph, m: NodeProto, heads: number, headDim: number): string {
  const tr = g.soleConsumer(m.output![0]);
  const perm = tr?.opType === 'Transpose' ? attrInts(tr, 'perm') : null;
  if (!tr || !perm || perm.join() !== '0,2,1,3') throw unsupported(tr ?? m, 'Expected the heads to be merged by Transpose(0, 2, 1, 3)');
  const rs = g.soleConsumer(tr.output![0]);
  const target = rs?.opType === 'Reshape' ? reshapeTarget(g, g.input(rs, 1)) : null;
  const last = target?.[2];
  if (!rs || !target || target.length !== 3 || !(last === null || last === -1 || last === heads * headDim)) {
    throw unsupported(rs ?? tr, 'Expected the heads to be merged by a Reshape to [B, N, C]');
  }
  return rs.output![0];
}

/**
 * Canonical fused q|k|v columns. Each role's source column for (head h, channel d) is the mixed-radix
 * index over its reshape parts (`order` names them S/H/D, `slot` is its index along S for fused qkv).
 */
function assembleQkv(linears: LinearMatch[], roles: Arrival[], orders: string[][], roleScale: number[], dim: number, heads: number, headDim: number) {
  const column = (role: number, hh: number, d: number) => {
    const a = roles[role];
    let col = 0;
    orders[role].forEach((o, i) => { col = col * a.parts[i] + (o === 'S' ? a.slot : o === 'H' ? hh : d); });
    return { source: a.source, col };
  };
  const qkvW = gatherQkvColumns(linears.map((l) => l.w), linears.map((l) => l.outDim), dim, heads, headDim, column);
  const qkvB = gatherQkvBias(linears.map((l) => l.b), dim, heads, headDim, column);
  roleScale.forEach((r, role) => {
    if (r === 1) return;
    for (let c = role * dim; c < (role + 1) * dim; c++) {
      qkvB[c] *= r;
      for (let row = 0; row < dim; row++) qkvW[row * 3 * dim + c] *= r;
    }
  });
  return { qkvW, qkvB };
}

export function matchAttention(g: OnnxGraph, h: string, dim: number, opset: number): AttentionMatch {
  const users = g.consumers(h);
  const linears = users.map((n) => {
    const l = matchLinear(g, n, h);
    if (!l) throw unsupported(n, 'Expected the q/k/v projections after the first LayerNorm of a block');
    if (l.inDim !== dim) throw new ModelWeightError(`Weight '${l.wSource}' (attention input projection) reads ${l.inDim} features; the model width is ${dim}.`);
    return l;
  });
  if (linears.length !== 1 && linears.length !== 3) throw unsupported(users[0], `Expected 1 fused qkv or 3 separate q/k/v projections, found ${linears.length}`);
  const arrivals = linears.flatMap((l, i) => walkProjection(g, l.out, l.outDim, i));
  const matmuls = [...new Set(arrivals.map((a) => a.matmul))];
  const scoresMm = matmuls.find((m) => arrivals.filter((a) => a.matmul === m).length === 2);
  const valueMm = matmuls.find((m) => m !== scoresMm);
  const at = (m: NodeProto | undefined, op: number) => arrivals.find((a) => a.matmul === m && a.operand === op);
  const [q, k, v] = [at(scoresMm, 0), at(scoresMm, 1), at(valueMm, 1)];
  if (arrivals.length !== 3 || matmuls.length !== 2 || !q || !k || !v) throw unsupported(linears[0].node, 'Could not find the q·kᵀ and ·v MatMuls of attention');
  const [lq, lk, lv] = [q, k, v].map(headLabels);
  const { heads, headDim } = lq;
  if ([lk, lv].some((l) => l.heads !== heads || l.headDim !== headDim) || heads * headDim !== dim) {
    throw unsupported(scoresMm!, `Inconsistent attention heads (${heads} × ${headDim} for width ${dim})`);
  }
  if (lq.labels.join() !== 'B,H,N,D' || lk.labels.join() !== 'B,H,D,N' || lv.labels.join() !== 'B,H,N,D') {
    throw unsupported(scoresMm!, 'The attention MatMuls do not compute q·kᵀ and scores·v per head');
  }
  const scale = q.scale * k.scale * followScores(g, scoresMm!, valueMm!, opset);
  const out = followMerge(g, valueMm!, heads, headDim);
  // The engine applies 1/√headDim itself; any other scale is folded exactly into q (and v's into v).
  const roleScale = [scale * Math.sqrt(headDim), 1, v.scale].map((r) => (Math.abs(r - 1) > 1e-6 ? r : 1));
  const { qkvW, qkvB } = assembleQkv(linears, [q, k, v], [lq.order, lk.order, lv.order], roleScale, dim, heads, headDim);
  return { heads, qkvW, qkvB, out, linears };
}
