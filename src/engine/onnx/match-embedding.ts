/**
 * Recognises the ViT input stem: image input → Conv (kernel = stride = patch) → flatten to [B, C, G²]
 * → Transpose to [B, G², C] → Concat after 1 or 2 prefix tokens (cls, dist; usually Expand-ed to the
 * batch) → Add of the position embedding. Weights come out in canonical layouts.
 */
import { ModelWeightError } from '../errors';
import { attrInt, attrInts, unsupported, type OnnxGraph } from './graph';
import { convToPatchWeight } from './layouts';
import { LIMITS } from './limits';
import type { NodeProto } from './proto';
import { reshapeTarget } from './shape-eval';

export interface EmbeddingMatch {
  dim: number; inChannels: number; patch: number; grid: number; prefixTokens: number;
  patchW: Float32Array; patchB: Float32Array; prefix: Float32Array; posEmbed: Float32Array;
  out: string;
  sources: Record<string, string>;
}

function matchConv(g: OnnxGraph, conv: NodeProto) {
  const w = g.floats(g.input(conv, 1));
  if (!w) throw unsupported(conv, 'The patch-embedding Conv has no constant weight');
  if (w.dims.length !== 4 || w.dims[2] !== w.dims[3]) throw new ModelWeightError(`Patch-embedding weight '${w.source}' has shape [${w.dims.join(', ')}]; [dim, channels, P, P] was expected.`);
  const [dim, inChannels, patch] = w.dims;
  const same = (a: number[] | null, v: number) => !a || a.every((x) => x === v);
  const strides = attrInts(conv, 'strides'), kernel = attrInts(conv, 'kernel_shape');
  if (!strides || !same(strides, patch) || !same(kernel, patch) || !same(attrInts(conv, 'pads'), 0) || !same(attrInts(conv, 'dilations'), 1) || attrInt(conv, 'group', 1) !== 1) {
    throw unsupported(conv, 'The first Conv is not a patch embedding (kernel = stride, no padding); this looks like a CNN, not a ViT');
  }
  if (dim > LIMITS.maxWidth || inChannels > LIMITS.maxInChannels || patch > LIMITS.maxPatch || dim < 1 || patch < 1) {
    throw new ModelWeightError(`Patch-embedding weight '${w.source}' has an implausible shape [${w.dims.join(', ')}].`);
  }
  const bName = g.input(conv, 2);
  const b = bName ? g.floats(bName) : null;
  if (b && b.data.length !== dim) throw new ModelWeightError(`Patch-embedding bias '${b.source}' has ${b.data.length} values; ${dim} were expected.`);
  return { dim, inChannels, patch, w, b };
}

/** Conv output [B, C, G, G] → [B, G², C] through Flatten(2) or Reshape(B, C, -1), then Transpose(0, 2, 1). */
function followFlatten(g: OnnxGraph, conv: NodeProto, grid: number): string {
  const flat = g.soleConsumer(conv.output![0]);
  const target = flat?.opType === 'Reshape' ? reshapeTarget(g, g.input(flat, 1)) : null;
  const okReshape = target && target.length === 3 && [null, -1, grid * grid].includes(target[2]);
  if (!flat || !(okReshape || (flat.opType === 'Flatten' && attrInt(flat, 'axis', 1) === 2))) {
    throw unsupported(flat ?? conv, 'The patch-embedding output is not flattened to patches; this looks like a CNN, not a ViT');
  }
  const tr = g.soleConsumer(flat.output![0]);
  if (tr?.opType !== 'Transpose' || attrInts(tr, 'perm')?.join() !== '0,2,1') throw unsupported(tr ?? flat, 'Expected Transpose(0, 2, 1) after the patch flatten');
  return tr.output![0];
}

/** A prefix token [1, 1, C] (or [B, 1, C]), usually behind an Expand/Tile to the batch size. */
function prefixToken(g: OnnxGraph, name: string, dim: number, concat: NodeProto) {
  let src = name;
  const p = g.producer(src);
  if (p && !g.isConst(src) && (p.opType === 'Expand' || p.opType === 'Tile')) src = g.input(p, 0);
  const t = g.floats(src);
  if (!t) throw unsupported(concat, 'A token concatenated before the patches is not a constant (cls/dist token expected)');
  if (t.data.length % dim !== 0 || t.dims[t.dims.length - 1] !== dim || (t.dims.length >= 2 && t.dims[t.dims.length - 2] !== 1)) {
    throw new ModelWeightError(`Prefix token '${t.source}' has shape [${t.dims.join(', ')}]; [1, 1, ${dim}] was expected.`);
  }
  return { data: t.data.slice(0, dim), source: t.source };
}

export function matchEmbedding(g: OnnxGraph, input: string, imageSize: number | null): EmbeddingMatch {
  const users = g.consumers(input);
  if (users.length !== 1 || users[0].opType !== 'Conv') throw unsupported(users[0], 'The image input must feed exactly one Conv (the patch embedding)');
  const conv = users[0];
  const { dim, inChannels, patch, w, b } = matchConv(g, conv);
  const grid = imageSize === null ? null : imageSize / patch;
  if (grid !== null && !Number.isInteger(grid)) throw unsupported(conv, `Image size ${imageSize} is not a multiple of the patch size ${patch}`);
  const patchTokens = followFlatten(g, conv, grid ?? 0);
  const concat = g.soleConsumer(patchTokens);
  const axis = concat ? attrInt(concat, 'axis', 0) : 0;
  if (!concat || concat.opType !== 'Concat' || (axis !== 1 && axis !== -2)) throw unsupported(concat, 'Expected the class token to be concatenated before the patches');
  const n = concat.input!.length;
  if (n < 2 || n > 3 || g.input(concat, n - 1) !== patchTokens) throw unsupported(concat, `Expected 1 or 2 prefix tokens before the patches, found ${n - 1} (patches last)`);
  const tokens = Array.from({ length: n - 1 }, (_, i) => prefixToken(g, g.input(concat, i), dim, concat));
  const add = g.soleConsumer(concat.output![0]);
  const posName = add?.opType === 'Add' ? g.otherInput(add, concat.output![0]) : null;
  const pos = posName ? g.floats(posName) : null;
  if (!add || !pos) throw unsupported(add ?? concat, 'Expected the position embedding to be added after the token concat');
  const patches = pos.data.length / dim - (n - 1);
  const g2 = Math.round(Math.sqrt(patches));
  if (!Number.isInteger(patches) || g2 * g2 !== patches || (grid !== null && g2 !== grid) || pos.dims[pos.dims.length - 1] !== dim) {
    throw new ModelWeightError(`Position embedding '${pos.source}' has shape [${pos.dims.join(', ')}], which does not fit ${n - 1} prefix tokens and a square patch grid of width ${dim}.`);
  }
  const sources: Record<string, string> = { patchW: w.source, patchB: b?.source ?? '', posEmbed: pos.source, 'prefix.cls': tokens[0].source };
  if (tokens[1]) sources['prefix.dist'] = tokens[1].source;
  const prefix = new Float32Array((n - 1) * dim);
  tokens.forEach((t, i) => prefix.set(t.data, i * dim));
  return {
    dim, inChannels, patch, grid: g2, prefixTokens: n - 1,
    patchW: convToPatchWeight(w.data, dim, inChannels, patch), patchB: b?.data ?? new Float32Array(dim),
    prefix, posEmbed: pos.data, out: add.output![0], sources,
  };
}
