/**
 * ONNX → typed ViT description. The graph is recognised by its structure, stage by stage along the
 * residual stream (embedding, blocks until the stream reaches the final LayerNorm, head), never by
 * initializer names; weights are converted to the canonical layouts of vit/description.ts.
 * Errors: InvalidModelFileError (not ONNX), UnsupportedModelError (not a ViT we know, naming the node),
 * ModelWeightError (missing, mis-shaped or absurd weights, naming the tensor). Limits: ./limits.ts.
 * adfq-studio exports (quantized ONNX with `adfq.export.*` metadata) are read by import-export.ts instead:
 * importVitOrExport returns their quantization too; importViT their model (the fake-quantized weights).
 */
import { ModelWeightError, UnsupportedModelError } from '../errors';
import type { BlockWeights, ViTModel } from '../vit/description';
import { OnnxGraph, unsupported } from './graph';
import { findImageInput } from './image-input';
import { LIMITS } from './limits';
import { matchBlock, normWeights, type BlockMatch } from './match-block';
import { matchEmbedding } from './match-embedding';
import { matchHead } from './match-head';
import { matchLayerNorm } from './match-layernorm';
import { readLabels, readPreprocessing } from './metadata';
import { importAdfqExport, type ExportQuantization } from './import-export';
import { decodeModel, defaultOpset, type ModelProto } from './proto';

export interface ImportOptions {
  /** Called for recoverable oddities (metadata that does not fit the model, …). */
  onWarning?: (message: string) => void;
}

/** ONNX stores eps as float32 (1e-6 reads back as 9.99999997e-7); report the shortest decimal with that float32 value. */
function shortestFloat32(v: number): number {
  for (let p = 1; p < 10; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === Math.fround(v)) return d;
  }
  return v;
}

function sameValues(values: number[], what: string): number {
  const v0 = values[0];
  if (values.some((v) => Math.abs(v - v0) > 1e-3 * Math.abs(v0))) throw new UnsupportedModelError(`The blocks use different ${what} (${[...new Set(values)].join(', ')}); one value is required.`);
  return v0;
}

export interface ImportedModel {
  model: ViTModel;
  /** The quantization of an adfq-studio export; null for any other model. */
  quant: ExportQuantization | null;
}

/** Any ViT we read: a plain ONNX ViT (quant null) or an adfq-studio export with its quantizers. */
export function importVitOrExport(bytes: Uint8Array, opts: ImportOptions = {}): ImportedModel {
  const model = decodeModel(bytes);
  return importAdfqExport(model, opts) ?? { model: importGraph(model, opts), quant: null };
}

export function importViT(bytes: Uint8Array, opts: ImportOptions = {}): ViTModel {
  return importVitOrExport(bytes, opts).model;
}

function importGraph(model: ModelProto, opts: ImportOptions): ViTModel {
  const warn = opts.onWarning ?? (() => {});
  const opset = defaultOpset(model);
  const g = new OnnxGraph(model.graph!);
  g.checkReferences();
  const input = findImageInput(model.graph!);
  if (input.height !== input.width) throw new UnsupportedModelError(`Input '${input.name}' is ${input.height ?? '?'}×${input.width ?? '?'} (? = dynamic); only square images, both sides fixed and equal or both dynamic, are supported.`);
  const emb = matchEmbedding(g, input.name, input.height);
  const { dim } = emb;
  if (input.channels !== null && input.channels !== emb.inChannels) throw new ModelWeightError(`The patch embedding reads ${emb.inChannels} channels but input '${input.name}' has ${input.channels}.`);

  // Walk the residual stream: a LayerNorm whose input also feeds a residual Add starts a block;
  // one that is the stream's only reader is the final norm.
  const blocks: BlockMatch[] = [];
  let x = emb.out;
  // checkReferences rules out cycles; the set still guarantees the walk never revisits a stream tensor.
  const visited = new Set<string>();
  for (;;) {
    if (visited.has(x)) throw unsupported(g.producer(x), `The residual stream returns to tensor '${x}'; the graph is cyclic`);
    visited.add(x);
    const ln = matchLayerNorm(g, x);
    if (!ln) throw unsupported(g.consumers(x)[0] ?? g.producer(x), 'Expected a LayerNorm on the residual stream');
    if (g.consumers(x).every((n) => ln.entry.includes(n))) break;
    if (blocks.length >= LIMITS.maxDepth) throw new UnsupportedModelError(`The model has more than ${LIMITS.maxDepth} blocks.`);
    const b = matchBlock(g, x, ln, dim, opset);
    blocks.push(b);
    x = b.out;
  }
  if (blocks.length === 0) throw unsupported(g.producer(x), 'No transformer block found after the embedding');
  const outputs = (model.graph!.output ?? []).map((o) => o.name ?? '');
  const head = matchHead(g, x, dim, outputs);
  const numClasses = head.heads[0].outDim;
  if (numClasses > LIMITS.maxClasses) throw new ModelWeightError(`Head '${head.heads[0].wSource}' has ${numClasses} classes (limit ${LIMITS.maxClasses}).`);

  const heads = sameValues(blocks.map((b) => b.heads), 'head counts');
  const mlpDim = sameValues(blocks.map((b) => b.mlpDim), 'MLP widths');
  const allEps = [...blocks.flatMap((b) => b.eps), head.norm.eps];
  const badEps = allEps.find((e) => !(Number.isFinite(e) && e > 0 && e < 1));
  if (badEps !== undefined) throw new ModelWeightError(`A LayerNorm epsilon is ${badEps}; it must be a small positive number (usually 1e-5 or 1e-6), so the file is corrupt.`);
  const eps = sameValues(allEps, 'LayerNorm epsilons');
  const gelu = blocks[0].gelu;
  if (blocks.some((b) => b.gelu !== gelu)) throw new UnsupportedModelError('The blocks mix exact and tanh GELU.');
  if (heads > LIMITS.maxHeads || mlpDim > LIMITS.maxMlpDim) throw new UnsupportedModelError(`Implausible model: ${heads} heads, MLP width ${mlpDim}.`);
  const imageSize = emb.grid * emb.patch;
  const tokens = emb.prefixTokens + emb.grid * emb.grid;
  if (imageSize > LIMITS.maxImageSize || tokens > LIMITS.maxTokens) throw new UnsupportedModelError(`Implausible model: image ${imageSize}, ${tokens} tokens.`);

  const normG = normWeights(g, head.norm, dim, 1, 'gamma'), normB = normWeights(g, head.norm, dim, 0, 'beta');
  const [h0, h1] = head.heads;
  const sources: Record<string, string> = { ...emb.sources, normGamma: normG.source, normBeta: normB.source, headW: h0.wSource, headB: h0.bSource };
  if (h1) Object.assign(sources, { headDistW: h1.wSource, headDistB: h1.bSource });
  blocks.forEach((b, i) => { for (const [k, v] of Object.entries(b.sources)) sources[`blocks.${i}.${k}`] = v; });
  const separateQkv = sources['blocks.0.qkvW'].includes(' + ');
  return {
    config: {
      style: emb.prefixTokens === 2 ? 'deit-distilled' : separateQkv ? 'huggingface' : 'timm',
      imageSize, patch: emb.patch, inChannels: emb.inChannels, dim, depth: blocks.length, heads, mlpDim, numClasses,
      prefixTokens: emb.prefixTokens, tokens, lnEps: shortestFloat32(eps), gelu, fixedBatch: input.batch,
      inputName: input.name, outputName: head.output,
      labels: readLabels(model, numClasses, warn),
      preprocessing: readPreprocessing(model, imageSize, emb.inChannels, warn),
    },
    weights: {
      patchW: emb.patchW, patchB: emb.patchB, prefix: emb.prefix, posEmbed: emb.posEmbed,
      blocks: blocks.map((b): BlockWeights => b.weights),
      normGamma: normG.data, normBeta: normB.data, headW: h0.w, headB: h0.b,
      headDistW: h1?.w ?? null, headDistB: h1?.b ?? null,
    },
    sources,
  };
}
