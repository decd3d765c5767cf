/**
 * Recognises the classifier end: final LayerNorm → pick token 0 (Gather or Slice+Squeeze on the token
 * axis) → Linear head. DeiT-distilled exports also pick token 1 into `head_dist` and average the two
 * logits ((a + b) / 2 or · 0.5), which is timm's inference path.
 */
import { ModelWeightError } from '../errors';
import { attrInt, attrInts, unsupported, type OnnxGraph } from './graph';
import { matchLayerNorm, type LayerNormMatch } from './match-layernorm';
import { matchLinear, type LinearMatch } from './match-linear';
import type { NodeProto } from './proto';

export interface HeadMatch { norm: LayerNormMatch; heads: LinearMatch[]; output: string }

/** A node taking one token off [B, N, C] → [B, C]; returns the token index and the pooled tensor. */
function pickToken(g: OnnxGraph, n: NodeProto, z: string): { index: number; out: string } | null {
  if (n.opType === 'Gather' && attrInt(n, 'axis', 0) === 1) {
    const idx = g.ints(g.input(n, 1));
    return idx && idx.length === 1 && g.input(n, 0) === z ? { index: idx[0], out: n.output![0] } : null;
  }
  if (n.opType !== 'Slice') return null;
  const s = g.ints(g.input(n, 1)), e = g.ints(g.input(n, 2)), axes = n.input?.[3] ? g.ints(g.input(n, 3)) : [0];
  if (!s || !e || !axes || s.length !== 1 || axes[0] !== 1 || e[0] !== s[0] + 1) return null;
  const sq = g.soleConsumer(n.output![0]);
  const squeezeAxes = sq?.opType === 'Squeeze' ? attrInts(sq, 'axes') ?? (sq.input?.[1] ? g.ints(g.input(sq, 1)) : null) : null;
  const ok = sq && ((sq.opType === 'Squeeze' && squeezeAxes?.join() === '1') || (sq.opType === 'Flatten' && attrInt(sq, 'axis', 1) === 1));
  return ok ? { index: s[0], out: sq.output![0] } : null;
}

export function matchHead(g: OnnxGraph, x: string, dim: number, outputs: string[]): HeadMatch {
  const norm = matchLayerNorm(g, x);
  if (!norm) throw unsupported(g.consumers(x)[0], 'Expected the final LayerNorm after the last block');
  const picks = g.consumers(norm.out).map((n) => {
    const p = pickToken(g, n, norm.out);
    if (!p) throw unsupported(n, 'Expected class-token pooling (token 0) after the final LayerNorm; other pooling is not supported');
    return p;
  }).sort((a, b) => a.index - b.index);
  if (picks.length < 1 || picks.length > 2 || picks.some((p, i) => p.index !== i)) throw unsupported(g.consumers(norm.out)[0], 'Expected the head to read token 0 (and token 1 for DeiT distillation)');
  const heads = picks.map((p) => {
    const node = g.soleConsumer(p.out);
    const l = node && matchLinear(g, node, p.out);
    if (!l) throw unsupported(node, 'Expected a Linear classifier head on the class token');
    if (l.inDim !== dim) throw new ModelWeightError(`Head weight '${l.wSource}' reads ${l.inDim} features; the model width is ${dim}.`);
    return l;
  });
  let output = heads[0].out;
  if (heads.length === 2) {
    // Distilled: Add(head, head_dist) then Div 2 or Mul 0.5.
    const add = g.soleConsumer(heads[0].out);
    if (add?.opType !== 'Add' || g.otherInput(add, heads[0].out) !== heads[1].out || heads[1].outDim !== heads[0].outDim) throw unsupported(add, 'Expected the two DeiT heads to be added');
    const avg = g.soleConsumer(add.output![0]);
    const c = avg ? g.scalar(g.otherInput(avg, add.output![0]) ?? '') : null;
    if (!avg || !((avg.opType === 'Div' && c === 2) || (avg.opType === 'Mul' && c === 0.5))) throw unsupported(avg ?? add, 'Expected the two DeiT heads to be averaged');
    output = avg.output![0];
  }
  const named = g.outputNameOf(output, outputs);
  if (!named) throw unsupported(g.consumers(output)[0] ?? g.producer(output), 'The classifier logits are not the graph output (extra ops after the head are not supported)');
  return { norm, heads, output: named };
}
