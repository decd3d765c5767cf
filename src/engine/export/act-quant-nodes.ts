/**
 * Activation quantizers as standard ONNX subgraphs, each computing exactly what the engine's twins
 * (reference/quant/) compute in float32, given the same input tensor. Shapes and node names: README.md.
 *   uniform  Div → Round (half to even) → Add z → Clip(0, L−1) → Sub z → Mul Δ, or QuantizeLinear →
 *            DequantizeLinear (uint8) where that is the same function (8 bits, 0 ≤ z ≤ 255)
 *   PPOQ     Abs → Greater τ → Where(outlier, 0, x) → uniform with Δ[n], z[n] → Where(outlier, x, x̂)
 *   log√2/2  Div → Log·c → Round → Clip(0, L) → Where(u > 0, ·, L) → ±1 by the exact thresholds → Gather
 *            of the L + 1 levels (code L = exact zero)
 *   SLQ      Sub m → Add eps → log√2 with the levels table holding (level + m) − eps
 */
import { ShapeError } from '../errors.ts';
import { attr, byteTensor, ElemType } from '../onnx/onnx-writer.ts';
import type { AttributeProto } from '../onnx/proto.ts';
import type { ActQuant, LogQuant, SlqQuant } from '../quant/params.ts';
import { logLevel, logThresholds, type LogBase } from '../reference/quant/log-quant.ts';
import { bitsF32, f32, levelsOf } from '../reference/quant/rounding.ts';
import type { GraphBuilder } from './graph-builder.ts';

/** How a site was written: a float subgraph, or QuantizeLinear/DequantizeLinear on uint8. */
export type ActForm = 'float' | 'qdq-uint8';

/** One quantizer instance in the exported graph (also written to the metadata, for importers). */
export interface ActSiteRecord {
  /** 'patch-in', 'blocks.3.qkv-in', …, 'head-in' (the distillation head's copy: 'head-in.dist'). */
  site: string;
  quantizer: ActQuant['kind'];
  form: ActForm;
  bits: number;
  input: string;
  output: string;
  /** Role → initializer name: scale, zero_point, tau, levels, upper, lower, shift, eps. */
  tensors: Record<string, string>;
  base?: LogBase;
}

export interface ActQuantContext {
  bits: number;
  /** Token count N (PPOQ's per-token parameters broadcast as [N, 1] over [B, N, C]). */
  tokens: number;
  /** Use QuantizeLinear/DequantizeLinear where exact (the 'qdq' format). */
  qdq: boolean;
}

/** Writes the quantizer `q` of `site` on tensor x; returns what was written. */
export function emitActQuant(g: GraphBuilder, site: string, x: string, q: ActQuant, c: ActQuantContext): ActSiteRecord {
  const rec = (form: ActForm, output: string, tensors: Record<string, string>, base?: LogBase): ActSiteRecord =>
    ({ site, quantizer: q.kind, form, bits: c.bits, input: x, output, tensors, ...(base ? { base } : {}) });
  const out = `quant/${site}/output`;
  switch (q.kind) {
    case 'uniform': {
      const u = uniform(g, site, x, [q.delta], [q.zero], c, out, false);
      return rec(u.form, out, u.tensors);
    }
    case 'ppoq': {
      if (q.delta.length !== c.tokens || q.zero.length !== c.tokens) throw new ShapeError(`PPOQ at ${site} has ${q.delta.length} token parameters; the model has ${c.tokens} tokens.`);
      const p = `quant/${site}`;
      const tau = g.f32(`${p}/tau`, f32(q.tau));
      const outlier = g.op('Greater', [g.op('Abs', [x], `${p}/Abs`), tau], `${p}/Greater`);
      const inliers = g.op('Where', [outlier, g.constF32(0), x], `${p}/Where_inliers`);
      const u = uniform(g, site, inliers, q.delta, q.zero, c, undefined, true);
      g.op('Where', [outlier, x, u.output], `${p}/Where`, {}, out);
      return rec(u.form, out, { ...u.tensors, tau });
    }
    case 'log':
      return rec('float', out, logQuant(g, site, x, q, c.bits, out), q.base);
    case 'slq':
      return rec('float', out, logQuant(g, site, x, q, c.bits, out), q.base);
  }
}

function checkUniform(site: string, delta: number[], zero: number[]): void {
  for (const d of delta) if (!(Number.isFinite(d) && f32(d) > 0)) throw new ShapeError(`The quantizer at ${site} has a step size ${d}; it must be a positive number.`);
  for (const z of zero) if (!Number.isInteger(z)) throw new ShapeError(`The quantizer at ${site} has a zero point ${z}; it must be an integer.`);
}

/** Per tensor (one Δ, z) or per token ([N, 1] float, or per-axis 1 for QuantizeLinear). */
function uniform(g: GraphBuilder, site: string, x: string, delta: number[], zero: number[], c: ActQuantContext,
                 output: string | undefined, perToken: boolean): { output: string; form: ActForm; tensors: Record<string, string> } {
  checkUniform(site, delta, zero);
  const p = `quant/${site}`, top = levelsOf(c.bits) - 1;
  const dims = perToken ? [delta.length, 1] : [];
  if (c.qdq && c.bits === 8 && zero.every((z) => z >= 0 && z <= top)) {
    const qdims = perToken ? [delta.length] : [];
    const scale = g.f32(`${p}/scale`, delta.map(f32), qdims);
    const zp = g.add(byteTensor(`${p}/zero_point`, qdims, zero, ElemType.UINT8));
    const axis: Record<string, AttributeProto> = perToken ? { axis: attr.int(1) } : {};
    const codes = g.op('QuantizeLinear', [x, scale, zp], `${p}/QuantizeLinear`, axis);
    const y = g.op('DequantizeLinear', [codes, scale, zp], `${p}/DequantizeLinear`, axis, output);
    return { output: y, form: 'qdq-uint8', tensors: { scale, zero_point: zp } };
  }
  const scale = g.f32(`${p}/scale`, delta.map(f32), dims);
  const zp = g.f32(`${p}/zero_point`, zero, dims);
  const r = g.op('Round', [g.op('Div', [x, scale], `${p}/Div`)], `${p}/Round`);
  const codes = g.op('Clip', [g.op('Add', [r, zp], `${p}/Add`), g.constF32(0), g.constF32(top)], `${p}/Clip`);
  const y = g.op('Mul', [g.op('Sub', [codes, zp], `${p}/Sub`), scale], `${p}/Mul`, {}, output);
  return { output: y, form: 'float', tensors: { scale, zero_point: zp } };
}

/**
 * log√2 / log2 (and SLQ's shifted form). The code from Log is within one level of the twin's (Log and the
 * scaling differ from a float32 log2 by a few ulps); comparing u with the exact decision thresholds of
 * logThresholds (the GPU kernel's) moves it onto the twin's code: +1 when u < U[k], −1 when u ≥ U[k − 1].
 */
function logQuant(g: GraphBuilder, site: string, x: string, q: LogQuant | SlqQuant, bits: number, output: string): Record<string, string> {
  if (!(Number.isFinite(q.delta) && f32(q.delta) > 0)) throw new ShapeError(`The log quantizer at ${site} has a step size ${q.delta}; it must be a positive number.`);
  const p = `quant/${site}`, L = levelsOf(bits), d = f32(q.delta);
  const tensors: Record<string, string> = {};
  let s = x;
  let levels = Array.from({ length: L + 1 }, (_, k) => logLevel(k, bits, d, q.base));
  if (q.kind === 'slq') {
    const m = f32(q.shift), eps = f32(1e-6);
    tensors.shift = g.f32(`${p}/shift`, m);
    tensors.eps = g.f32(`${p}/eps`, eps);
    s = g.op('Add', [g.op('Sub', [x, tensors.shift], `${p}/Sub_shift`), tensors.eps], `${p}/Add_eps`);
    levels = levels.map((v) => f32(f32(v + m) - eps));
  }
  const U = Array.from(logThresholds(bits, q.base), bitsF32);
  tensors.scale = g.f32(`${p}/scale`, d);
  tensors.levels = g.f32(`${p}/levels`, levels);
  // upper[k] = U[k] (−inf for the zero code), lower[k] = U[k − 1] (NaN for k = 0: never ≥).
  tensors.upper = g.f32(`${p}/upper`, [...U, -Infinity]);
  tensors.lower = g.f32(`${p}/lower`, [NaN, ...U]);
  const u = g.op('Div', [s, tensors.scale], `${p}/Div`);
  const perLevel = f32((q.base === '2' ? -1 : -2) / Math.LN2);
  const t = g.op('Mul', [g.op('Log', [u], `${p}/Log`), g.constF32(perLevel)], `${p}/Mul`);
  const k0 = g.op('Clip', [g.op('Round', [t], `${p}/Round`), g.constF32(0), g.constF32(L)], `${p}/Clip`);
  const positive = g.op('Greater', [u, g.constF32(0)], `${p}/Greater`);
  const kf = g.op('Where', [positive, k0, g.constF32(L)], `${p}/Where`);
  const k = g.op('Cast', [kf], `${p}/Cast`, { to: attr.int(ElemType.INT64) });
  const up = g.op('Cast', [g.op('Less', [u, g.op('Gather', [tensors.upper, k], `${p}/Gather_upper`)], `${p}/Less`)], `${p}/Cast_up`, { to: attr.int(ElemType.INT64) });
  const down = g.op('Cast', [g.op('GreaterOrEqual', [u, g.op('Gather', [tensors.lower, k], `${p}/Gather_lower`)], `${p}/GreaterOrEqual`)], `${p}/Cast_down`, { to: attr.int(ElemType.INT64) });
  const code = g.op('Sub', [g.op('Add', [k, up], `${p}/Add_up`), down], `${p}/Sub_down`);
  g.op('Gather', [tensors.levels, code], `${p}/Gather`, {}, output);
  return tensors;
}
