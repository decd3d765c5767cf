/**
 * Partial evaluation of the small integer subgraphs that exporters emit for Reshape targets.
 * torch writes `x.reshape(B, N, 3, heads, C // heads)` as Concat(Unsqueeze(Gather(Shape(x))), …, 3, heads, …):
 * the batch and token counts are computed at run time, the head count is a constant. We recover the
 * vector's length and its constant entries; computed entries come back as null.
 */
import type { OnnxGraph } from './graph';

const MAX_STEPS = 64;

/** A scalar integer: its value, null when computed at run time, undefined when not recognisably a scalar. */
function scalarValue(g: OnnxGraph, name: string, steps: { n: number }): number | null | undefined {
  if (++steps.n > MAX_STEPS) return undefined;
  const c = g.constTensor(name);
  if (c) {
    const v = g.ints(name);
    return v && v.length === 1 ? v[0] : undefined;
  }
  const p = g.producer(name);
  if (!p) return undefined;
  const op = p.opType;
  if (op === 'Cast' || op === 'Squeeze') return scalarValue(g, g.input(p, 0), steps);
  if (op === 'Gather') {
    const idx = g.ints(g.input(p, 1));
    return idx && idx.length === 1 ? null : undefined;
  }
  if (op === 'Div' || op === 'Mul' || op === 'Add' || op === 'Sub') {
    const a = scalarValue(g, g.input(p, 0), steps), b = scalarValue(g, g.input(p, 1), steps);
    if (a === undefined || b === undefined) return undefined;
    if (a === null || b === null) return null;
    return op === 'Div' ? (b === 0 ? undefined : Math.floor(a / b)) : op === 'Mul' ? a * b : op === 'Add' ? a + b : a - b;
  }
  return undefined;
}

function vectorValue(g: OnnxGraph, name: string, steps: { n: number }): (number | null)[] | null {
  if (++steps.n > MAX_STEPS) return null;
  const consts = g.isConst(name) ? g.ints(name) : null;
  if (consts) return consts.length <= 8 ? consts : null;
  const p = g.producer(name);
  if (!p) return null;
  switch (p.opType) {
    case 'Cast': return vectorValue(g, g.input(p, 0), steps);
    case 'Unsqueeze': {
      const v = scalarValue(g, g.input(p, 0), steps);
      return v === undefined ? null : [v];
    }
    case 'Concat': {
      const out: (number | null)[] = [];
      for (let i = 0; i < (p.input?.length ?? 0); i++) {
        const part = vectorValue(g, g.input(p, i), steps);
        if (!part) return null;
        out.push(...part);
      }
      return out.length <= 8 ? out : null;
    }
    case 'Slice': {
      // Slice(Shape(x), [s], [e]) keeps e − s run-time dims.
      const from = g.producer(g.input(p, 0));
      const s = g.ints(g.input(p, 1)), e = g.ints(g.input(p, 2));
      if (from?.opType !== 'Shape' || !s || !e || s.length !== 1 || e.length !== 1) return null;
      const len = e[0] - s[0];
      return s[0] >= 0 && len > 0 && len <= 8 ? new Array<null>(len).fill(null) : null;
    }
    default: return null;
  }
}

/** The target shape of a Reshape node's second input, entry by entry (null = computed), or null. */
export function reshapeTarget(g: OnnxGraph, shapeInput: string): (number | null)[] | null {
  return vectorValue(g, shapeInput, { n: 0 });
}
