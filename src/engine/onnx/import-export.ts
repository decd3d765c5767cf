/**
 * Import of an adfq-studio export (export/export-onnx.ts) back into the engine: the ViTModel whose weights
 * are the file's dequantized (= fake-quantized) weights, with FP32 biases, norms and embeddings and the
 * config, preprocessing and labels of its metadata; and the ViTQuantParams the export was made from, so
 * QuantViTRunner on the imported model computes exactly what it computed on the original.
 *
 * Unlike importViT (recognition by structure), an export is read through its metadata and the layout
 * export/README.md documents (tensor and node names), and every record is checked against the graph:
 * each quantizer's tensors, wiring and bit width (export-act-params.ts), each weight's shape, producer and
 * quantizer (export-weight-params.ts), and the width, heads, LayerNorm ε and GELU of the float graph.
 * Disagreements are ExportMetadataErrors.
 *
 * AdaRound masks (params.rounding) are not carried over: they choose the rounding of the ORIGINAL FP32
 * weights, which the file does not hold; the file's weights are already rounded, and nearest rounding
 * reproduces them bit for bit. `weights[].rounding` says which layers ASMO rounded.
 */
import type { ChannelQuant, ViTQuantParams } from '../quant/params.ts';
import type { QuantizeSettings } from '../quant/settings.ts';
import type { WeightLayer } from '../quant/weight-rounding.ts';
import { f32 } from '../reference/quant/rounding.ts';
import type { BlockWeights, ViTModel } from '../vit/description.ts';
import { readActivationParams } from './export-act-params.ts';
import { ExportMetadataError, readExportMetadata, type ExportFileFormat, type ExportMetadata, type ExportShape } from './export-metadata.ts';
import { readExportWeights, type WeightQuantSource } from './export-weight-params.ts';
import { attrFloat, OnnxGraph } from './graph.ts';
import { findImageInput } from './image-input.ts';
import { readLabels, readPreprocessing } from './metadata.ts';
import type { ModelProto } from './proto.ts';

export interface ExportQuantization {
  format: ExportFileFormat;
  opset: number;
  version: string;
  bitsW: number;
  bitsA: number;
  /** 'adfq' | 'minmax' | 'percentile', or 'unknown' when the exporter was not told. */
  method: string;
  settings: QuantizeSettings | null;
  /** Every quantizer, as exported (rounding masks aside: see the file comment). */
  params: ViTQuantParams;
  /** Each activation quantizer as written in the graph. */
  sites: { site: string; quantizer: string; form: string }[];
  /** Each weight layer: storage and whether ASMO's AdaRound chose its rounding. */
  weights: { key: WeightLayer; layer: string; storage: string; rounding: 'nearest' | 'adaround' }[];
  /** Where the weight quantizers' Δ, z came from (export-weight-params.ts). */
  weightQuantizers: WeightQuantSource;
  /** Weight columns whose z (or Δ) the file leaves open; any choice gives the same weights. */
  ambiguousColumns: number;
}

export interface ImportedExport { model: ViTModel; quant: ExportQuantization }

const fail = (message: string): never => { throw new ExportMetadataError(message); };

/** 'W4A4 adfq' (+ ' + ASMO rounding' when some layer was AdaRound-rounded). */
export function quantizationLabel(q: ExportQuantization): string {
  return `W${q.bitsW}A${q.bitsA} ${q.method}${q.weights.some((w) => w.rounding === 'adaround') ? ' + ASMO rounding' : ''}`;
}

/** A small plain summary (no parameter arrays) for `adfq inspect`, `adfq eval --json` and the studio. */
export function quantizationSummary(q: ExportQuantization) {
  const count = (xs: string[]) => xs.reduce<Record<string, number>>((a, x) => ({ ...a, [x]: (a[x] ?? 0) + 1 }), {});
  return {
    label: quantizationLabel(q), format: q.format, opset: q.opset, version: q.version, bitsW: q.bitsW, bitsA: q.bitsA,
    method: q.method, settings: q.settings, quantizers: count(q.sites.map((s) => s.quantizer)), sites: q.sites.length,
    weightStorage: count(q.weights.map((w) => w.storage)), adaroundLayers: q.weights.filter((w) => w.rounding === 'adaround').map((w) => w.key),
    weightQuantizers: q.weightQuantizers, ambiguousColumns: q.ambiguousColumns,
  };
}

/** Heads, LayerNorm ε and GELU of the float graph (block 0, named as the exporter names them) against the metadata. */
function checkFloatGraph(g: OnnxGraph, s: ExportShape): void {
  const nodes = new Map(g.nodes.map((n) => [n.name ?? '', n]));
  const reshape = nodes.get('/blocks.0/attn/Reshape');
  const split = reshape ? g.ints(g.input(reshape, 1)) : null;
  if (split?.join() !== [0, 0, 3, s.heads, s.dim / s.heads].join()) fail(`Its attention splits q, k, v as [${split?.join(', ') ?? '?'}]; the metadata says ${s.heads} heads of width ${s.dim / s.heads}.`);
  const ln = nodes.get('/blocks.0/norm1/LayerNormalization'), addEps = nodes.get('/blocks.0/norm1/Add_eps');
  const eps = ln ? attrFloat(ln, 'epsilon', NaN) : addEps ? g.scalar(g.input(addEps, 1)) : null;
  if (eps === null || f32(eps) !== f32(s.lnEps)) fail(`Its LayerNorm uses ε = ${eps}; the metadata says ${s.lnEps}.`);
  if (!nodes.has(`/blocks.0/mlp/act/${s.gelu === 'erf' ? 'Erf' : 'Tanh'}`)) fail(`Its MLP activation is not the ${s.gelu} GELU the metadata states.`);
}

/** The FP32 tensors of the export (biases, norms, embeddings), by the exporter's names. */
function floatReader(g: OnnxGraph) {
  return (name: string, count: number): Float32Array => {
    const t = g.isConst(name) ? g.floats(name)! : fail(`It lacks the tensor '${name}' of the export layout.`);
    if (t.data.length !== count) fail(`Its tensor '${name}' holds ${t.data.length} values; the model in its metadata needs ${count}.`);
    return t.data;
  };
}

function buildModel(model: ModelProto, g: OnnxGraph, meta: ExportMetadata, weights: Map<WeightLayer, Float32Array>, warn: (m: string) => void): ViTModel {
  const s = meta.shape, f = floatReader(g), d = s.dim;
  const input = findImageInput(model.graph!);
  for (const [what, have, want] of [['channels', input.channels, s.inChannels], ['height', input.height, s.imageSize], ['width', input.width, s.imageSize]] as const) {
    if (have !== null && have !== want) fail(`Its input '${input.name}' has ${what} ${have}; the metadata says ${want}.`);
  }
  const outputs = (model.graph!.output ?? []).map((o) => o.name ?? '');
  if (outputs.length !== 1) fail(`It has ${outputs.length} outputs; an exported classifier has one (the logits).`);
  const w = (key: WeightLayer) => weights.get(key)!;
  const sources: Record<string, string> = { patchW: 'patch_embed.proj.weight', patchB: 'patch_embed.proj.bias', posEmbed: 'pos_embed', 'prefix.cls': 'prefix_tokens',
    normGamma: 'norm.weight', normBeta: 'norm.bias', headW: 'head.weight', headB: 'head.bias' };
  if (s.prefixTokens === 2) Object.assign(sources, { 'prefix.dist': 'prefix_tokens', headDistW: 'head_dist.weight', headDistB: 'head_dist.bias' });
  const blocks = Array.from({ length: s.depth }, (_, i): BlockWeights => {
    const n = `blocks.${i}`;
    const names = { ln1Gamma: `${n}.norm1.weight`, ln1Beta: `${n}.norm1.bias`, qkvW: `${n}.attn.qkv.weight`, qkvB: `${n}.attn.qkv.bias`, projW: `${n}.attn.proj.weight`,
      projB: `${n}.attn.proj.bias`, ln2Gamma: `${n}.norm2.weight`, ln2Beta: `${n}.norm2.bias`, fc1W: `${n}.mlp.fc1.weight`, fc1B: `${n}.mlp.fc1.bias`,
      fc2W: `${n}.mlp.fc2.weight`, fc2B: `${n}.mlp.fc2.bias` };
    for (const [k, v] of Object.entries(names)) sources[`${n}.${k}`] = v;
    return {
      ln1Gamma: f(names.ln1Gamma, d), ln1Beta: f(names.ln1Beta, d), qkvW: w(`${n}.qkv` as WeightLayer), qkvB: f(names.qkvB, 3 * d),
      projW: w(`${n}.proj` as WeightLayer), projB: f(names.projB, d), ln2Gamma: f(names.ln2Gamma, d), ln2Beta: f(names.ln2Beta, d),
      fc1W: w(`${n}.fc1` as WeightLayer), fc1B: f(names.fc1B, s.mlpDim), fc2W: w(`${n}.fc2` as WeightLayer), fc2B: f(names.fc2B, d),
    };
  });
  const distilled = s.prefixTokens === 2;
  return {
    config: {
      style: s.style, imageSize: s.imageSize, patch: s.patch, inChannels: s.inChannels, dim: d, depth: s.depth, heads: s.heads, mlpDim: s.mlpDim,
      numClasses: s.numClasses, prefixTokens: s.prefixTokens, tokens: s.tokens, lnEps: s.lnEps, gelu: s.gelu, fixedBatch: input.batch,
      inputName: input.name, outputName: outputs[0],
      labels: readLabels(model, s.numClasses, warn), preprocessing: readPreprocessing(model, s.imageSize, s.inChannels, warn),
    },
    weights: {
      patchW: w('patch'), patchB: f('patch_embed.proj.bias', d), prefix: f('prefix_tokens', s.prefixTokens * d), posEmbed: f('pos_embed', s.tokens * d), blocks,
      normGamma: f('norm.weight', d), normBeta: f('norm.bias', d), headW: w('head'), headB: f('head.bias', s.numClasses),
      headDistW: distilled ? w('headDist') : null, headDistB: distilled ? f('head_dist.bias', s.numClasses) : null,
    },
    sources,
  };
}

/** The export's model and quantization; null when `model` has no adfq-studio export metadata. */
export function importAdfqExport(model: ModelProto, opts: { onWarning?: (m: string) => void } = {}): ImportedExport | null {
  const meta = readExportMetadata(model);
  if (!meta) return null;
  const g = new OnnxGraph(model.graph!);
  g.checkReferences();
  checkFloatGraph(g, meta.shape);
  const act = readActivationParams(g, meta, findImageInput(model.graph!).name);
  const w = readExportWeights(model, g, meta);
  const vit = buildModel(model, g, meta, w.values, opts.onWarning ?? (() => {}));
  const q = (key: string): ChannelQuant => w.quant.get(key as WeightLayer)!;
  const params: ViTQuantParams = {
    bitsW: meta.bitsW, bitsA: meta.bitsA, patchIn: act.patchIn, patchW: q('patch'),
    blocks: act.blocks.map((b, i) => ({ qkvW: q(`blocks.${i}.qkv`), projW: q(`blocks.${i}.proj`), fc1W: q(`blocks.${i}.fc1`), fc2W: q(`blocks.${i}.fc2`), ...b })),
    headIn: act.headIn, headW: q('head'), ...(meta.shape.prefixTokens === 2 ? { headDistW: q('headDist') } : {}),
  };
  return {
    model: vit,
    quant: {
      format: meta.format, opset: meta.opset, version: meta.version, bitsW: meta.bitsW, bitsA: meta.bitsA, method: meta.method, settings: meta.settings, params,
      sites: [...meta.sites.values()].map((r) => ({ site: r.site, quantizer: r.quantizer, form: r.form })),
      weights: [...meta.weights.values()].map((r) => ({ key: r.key, layer: r.layer, storage: r.storage, rounding: r.rounding })),
      weightQuantizers: w.source, ambiguousColumns: w.ambiguousColumns,
    },
  };
}
