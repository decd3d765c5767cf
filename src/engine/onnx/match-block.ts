/**
 * Recognises one pre-LN transformer block on the residual stream x:
 *   x1 = x + proj(attn(LN1(x)));  x2 = x1 + fc2(gelu(fc1(LN2(x1))))
 * (the residual Add may take its operands in either order).
 */
import { ModelWeightError } from '../errors';
import type { BlockWeights, GeluKind } from '../vit/description';
import { unsupported, type OnnxGraph } from './graph';
import { matchAttention } from './match-attention';
import { matchGelu } from './match-gelu';
import { matchLayerNorm, type LayerNormMatch } from './match-layernorm';
import { matchLinear, type LinearMatch } from './match-linear';

export interface BlockMatch {
  weights: BlockWeights;
  heads: number; mlpDim: number; gelu: GeluKind; eps: number[];
  out: string;
  sources: Record<string, string>;
}

/** LayerNorm γ and β (ones and zeros when the norm has no affine part), checked against the width. */
export function normWeights(g: OnnxGraph, ln: LayerNormMatch, dim: number, fill: number, which: 'gamma' | 'beta') {
  const name = ln[which];
  if (!name) return { data: new Float32Array(dim).fill(fill), source: '' };
  const t = g.floats(name);
  if (!t) throw unsupported(g.producer(name), `The LayerNorm ${which} '${name}' is computed by the graph, not a constant weight`);
  if (t.data.length !== dim) throw new ModelWeightError(`LayerNorm ${which} '${t.source}' has ${t.data.length} values; the model width is ${dim}.`);
  return { data: t.data, source: t.source };
}

/** The Linear reading `x`, which must be its only data consumer. */
function linearAfter(g: OnnxGraph, x: string, what: string, inDim: number): LinearMatch {
  const n = g.soleConsumer(x);
  const l = n && matchLinear(g, n, x);
  if (!l) throw unsupported(n ?? g.producer(x), `Expected the ${what} Linear layer here`);
  if (l.inDim !== inDim) throw new ModelWeightError(`Weight '${l.wSource}' (${what}) reads ${l.inDim} features; ${inDim} were expected.`);
  return l;
}

/** The residual Add of `branch` onto `stream`. */
function residual(g: OnnxGraph, stream: string, branch: string, what: string): string {
  const add = g.soleConsumer(branch);
  if (add?.opType !== 'Add' || g.otherInput(add, branch) !== stream) throw unsupported(add ?? g.producer(branch), `Expected the residual Add after the ${what}`);
  return add.output![0];
}

export function matchBlock(g: OnnxGraph, x: string, ln1: LayerNormMatch, dim: number, opset: number): BlockMatch {
  const attn = matchAttention(g, ln1.out, dim, opset);
  const proj = linearAfter(g, attn.out, 'attention output projection', dim);
  const x1 = residual(g, x, proj.out, 'attention');
  const ln2 = matchLayerNorm(g, x1);
  if (!ln2) throw unsupported(g.consumers(x1)[0], 'Expected the second LayerNorm of a block');
  const fc1 = linearAfter(g, ln2.out, 'first MLP', dim);
  const gelu = matchGelu(g, fc1.out);
  const fc2 = linearAfter(g, gelu.out, 'second MLP', fc1.outDim);
  if (fc2.outDim !== dim || proj.outDim !== dim) throw new ModelWeightError(`Weight '${fc2.outDim !== dim ? fc2.wSource : proj.wSource}' does not map back to the model width ${dim}.`);
  const x2 = residual(g, x1, fc2.out, 'MLP');
  // The stream may feed only the LayerNorm and the residual Add; anything else (LayerScale…) is not a plain ViT.
  for (const [stream, ln] of [[x, ln1], [x1, ln2]] as const) {
    const extra = g.consumers(stream).filter((n) => !ln.entry.includes(n) && !(n.opType === 'Add' && n.output![0] === (stream === x ? x1 : x2)));
    if (extra.length > 0) throw unsupported(extra[0], 'Unexpected use of the residual stream inside a block');
  }
  const [g1, b1, g2, b2] = [normWeights(g, ln1, dim, 1, 'gamma'), normWeights(g, ln1, dim, 0, 'beta'), normWeights(g, ln2, dim, 1, 'gamma'), normWeights(g, ln2, dim, 0, 'beta')];
  const weights: BlockWeights = {
    ln1Gamma: g1.data, ln1Beta: b1.data, qkvW: attn.qkvW, qkvB: attn.qkvB, projW: proj.w, projB: proj.b,
    ln2Gamma: g2.data, ln2Beta: b2.data, fc1W: fc1.w, fc1B: fc1.b, fc2W: fc2.w, fc2B: fc2.b,
  };
  const sources: Record<string, string> = {
    ln1Gamma: g1.source, ln1Beta: b1.source, ln2Gamma: g2.source, ln2Beta: b2.source,
    qkvW: attn.linears.map((l) => l.wSource).join(' + '), qkvB: attn.linears.map((l) => l.bSource).join(' + '),
    projW: proj.wSource, projB: proj.bSource, fc1W: fc1.wSource, fc1B: fc1.bSource, fc2W: fc2.wSource, fc2B: fc2.bSource,
  };
  return { weights, heads: attn.heads, mlpDim: fc1.outDim, gelu: gelu.kind, eps: [ln1.eps, ln2.eps], out: x2, sources };
}
