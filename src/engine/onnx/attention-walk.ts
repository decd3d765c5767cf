/**
 * Follows a q/k/v projection output to the attention MatMul it feeds, tracking what each axis means.
 * The projection output is [B, N, F]; a Reshape splits F into 2 or 3 named parts (R0, R1[, R2]); Transposes
 * permute axes; a Gather or Split+Squeeze on one part picks a slot of a fused qkv; scalar Mul/Div scale.
 * Tracking axis labels instead of matching fixed `perm`s accepts every equivalent spelling (torch
 * fuses consecutive Transposes, so k.transpose(-2,-1) can vanish into another Transpose).
 */
import { attrInt, attrInts, unsupported, type OnnxGraph } from './graph';
import type { NodeProto } from './proto';
import { reshapeTarget } from './shape-eval';

export interface Arrival {
  matmul: NodeProto;
  operand: number;
  /** Axis labels at the MatMul: 'B', 'N', and the reshape parts 'R0'…; the slot part is gone. */
  labels: string[];
  /** Sizes of the reshape parts, in order, and which part (if any) was the qkv slot axis. */
  parts: number[];
  slotPart: number | null;
  slot: number;
  scale: number;
  source: number;
}

interface State { tensor: string; labels: string[]; parts: number[] | null; slotPart: number | null; slot: number; scale: number }

function splitFeatures(g: OnnxGraph, n: NodeProto, features: number): number[] {
  const target = reshapeTarget(g, g.input(n, 1));
  if (!target || (target.length !== 4 && target.length !== 5)) throw unsupported(n, 'Cannot read the attention head split from this Reshape');
  const parts = target.slice(2).map((v) => (v === null || v === -1 ? null : v));
  const known = parts.reduce<number>((p, v) => p * (v ?? 1), 1);
  const unknown = parts.filter((v) => v === null).length;
  if (unknown > 1 || known <= 0 || features % known !== 0 || (unknown === 0 && known !== features)) {
    throw unsupported(n, `Cannot determine the head count: reshape of ${features} features into [${target.join(', ')}]`);
  }
  return parts.map((v) => v ?? features / known);
}

function step(g: OnnxGraph, s: State, n: NodeProto, features: number, out: State[], arrivals: Omit<Arrival, 'source'>[]): void {
  const next = (tensor: string, patch: Partial<State>): void => { out.push({ ...s, ...patch, tensor }); };
  switch (n.opType) {
    case 'Reshape': {
      if (s.parts) throw unsupported(n, 'Unexpected second Reshape inside attention');
      const parts = splitFeatures(g, n, features);
      return next(n.output![0], { parts, labels: ['B', 'N', ...parts.map((_, i) => `R${i}`)] });
    }
    case 'Transpose': {
      const perm = attrInts(n, 'perm');
      if (!perm || perm.length !== s.labels.length) throw unsupported(n, 'Transpose without a matching perm inside attention');
      return next(n.output![0], { labels: perm.map((p) => s.labels[p]) });
    }
    case 'Gather': {
      const axis = attrInt(n, 'axis', 0), idx = g.ints(g.input(n, 1));
      const label = s.labels[axis < 0 ? axis + s.labels.length : axis] ?? '';
      if (!idx || idx.length !== 1 || !label.startsWith('R') || s.slotPart !== null) throw unsupported(n, 'Unexpected Gather inside attention');
      const part = Number(label.slice(1)), size = s.parts![part];
      return next(n.output![0], { labels: s.labels.filter((l) => l !== label), slotPart: part, slot: (idx[0] + size) % size });
    }
    case 'Split': {
      const axis = attrInt(n, 'axis', 0), label = s.labels[axis < 0 ? axis + s.labels.length : axis] ?? '';
      if (!label.startsWith('R') || s.slotPart !== null || s.parts![Number(label.slice(1))] !== n.output!.length) throw unsupported(n, 'Unexpected Split inside attention');
      n.output!.forEach((o, k) => {
        const sq = g.soleConsumer(o);
        if (sq?.opType !== 'Squeeze') throw unsupported(sq ?? n, 'Expected a Squeeze after the qkv Split');
        next(sq.output![0], { labels: s.labels.filter((l) => l !== label), slotPart: Number(label.slice(1)), slot: k });
      });
      return;
    }
    case 'Mul': case 'Div': {
      const c = g.scalar(g.otherInput(n, s.tensor) ?? '');
      if (c === null || (n.opType === 'Div' && g.input(n, 0) !== s.tensor) || c === 0) throw unsupported(n, 'Unexpected non-scalar Mul/Div inside attention');
      return next(n.output![0], { scale: s.scale * (n.opType === 'Mul' ? c : 1 / c) });
    }
    case 'MatMul': {
      const operand = g.input(n, 0) === s.tensor ? 0 : 1;
      if (!s.parts) throw unsupported(n, 'Attention MatMul on a tensor that was never split into heads');
      arrivals.push({ matmul: n, operand, labels: s.labels, parts: s.parts, slotPart: s.slotPart, slot: s.slot, scale: s.scale });
      return;
    }
    default: throw unsupported(n, 'Unsupported op between a q/k/v projection and the attention MatMul');
  }
}

/** Every MatMul operand reached from the projection output `tensor` of source `source`. */
export function walkProjection(g: OnnxGraph, tensor: string, features: number, source: number): Arrival[] {
  const arrivals: Omit<Arrival, 'source'>[] = [];
  let states: State[] = [{ tensor, labels: ['B', 'N', 'F'], parts: null, slotPart: null, slot: 0, scale: 1 }];
  // Each step moves every branch one node forward; the walk is a few nodes long in any real export.
  for (let guard = 0; states.length > 0; guard++) {
    if (guard > 16) throw unsupported(g.producer(tensor), 'The path from a q/k/v projection to the attention MatMul is too long');
    const next: State[] = [];
    for (const s of states) {
      const users = g.consumers(s.tensor);
      const branching = users.length > 1 && users.every((u) => u.opType === 'Gather');
      if (users.length === 0 || (users.length > 1 && !branching)) throw unsupported(g.producer(s.tensor), 'Attention projection output has an unexpected fan-out');
      for (const u of users) step(g, s, u, features, next, arrivals);
    }
    states = next;
  }
  return arrivals.map((a) => ({ ...a, source }));
}
