/**
 * Export of a quantized ViT as a standard ONNX model (issue 6, item 1): a fresh canonical graph
 * (vit-graph.ts) with every activation quantizer of the run as standard ops (act-quant-nodes.ts) and the
 * weights either as integer codes behind per-output-channel DequantizeLinear ('qdq') or as FP32
 * fake-quantized values ('fake-quant-weights'). Both hold exactly the weights QuantViTRunner computes
 * with (checked on every export), and the graph passes checkGraph. Layout and names: README.md.
 */
import { InternalError, UsageError } from '../errors.ts';
import { attr, buildModel, byteTensor, ElemType, encodeModel, floatTensor, int32Tensor, nibbleTensor, tensorInfo } from '../onnx/onnx-writer.ts';
import type { ModelInit } from '../onnx/proto.ts';
import { quantizeModelWeights } from '../quant/apply-cpu.ts';
import type { ViTQuantParams } from '../quant/params.ts';
import type { QuantizeSettings } from '../quant/settings.ts';
import type { BlockWeights, ViTModel } from '../vit/description.ts';
import { emitActQuant, type ActSiteRecord } from './act-quant-nodes.ts';
import { checkGraph } from './check-graph.ts';
import { GraphBuilder } from './graph-builder.ts';
import { exportMetadata, type WeightRecord } from './metadata.ts';
import { buildVitGraph } from './vit-graph.ts';
import { assertSameWeights, storeWeight, transposeF32, weightLayers, type StoredWeight } from './weight-storage.ts';

export type ExportFormat = 'qdq' | 'fake-quant-weights';
export const EXPORT_OPSETS = [13, 17, 21] as const;
export type ExportOpset = (typeof EXPORT_OPSETS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** 13 (default: decomposed LayerNorm, int8 weights), 17 (LayerNormalization), 21 (int4 weights possible). */
  opset?: ExportOpset;
  /** 'qdq' at opset 21 with bitsW ≤ 4: weights as int4 (else int8). */
  int4Weights?: boolean;
  /** The calibration settings (method, ablations, τ, ASMO), written to the metadata as JSON. */
  settings?: QuantizeSettings;
  /** Extra metadata_props (keys starting 'adfq.export.' / 'adfq.quant.' are the exporter's own). */
  metadata?: Record<string, string>;
}

export interface ExportSummary {
  format: ExportFormat;
  opset: number;
  bitsW: number;
  /** Quantized weights (every Linear/Conv weight) and their size as FP32. */
  weightCount: number;
  fp32WeightBytes: number;
  /** Codes packed at bitsW bits, plus a float32 step and a one-byte zero point per output channel. */
  packedWeightBytes: number;
  /** What this file stores for those weights (containers, scales, zero points; FP32 for fake-quant). */
  storedWeightBytes: number;
  /** Biases, LayerNorm, embeddings (FP32 in every form). */
  otherParamBytes: number;
  /** The FP32 model's parameters: fp32WeightBytes + otherParamBytes. */
  fp32ModelBytes: number;
  /** Size of the exported file. */
  fileBytes: number;
  /** Layers per weight storage ('int4', 'int8', 'int32' or 'float32'). */
  storage: Record<string, number>;
}

export interface QuantizedOnnx {
  bytes: Uint8Array;
  model: ModelInit;
  sites: ActSiteRecord[];
  weights: WeightRecord[];
  summary: ExportSummary;
}

/** The exported .onnx bytes. */
export function exportQuantizedOnnx(model: ViTModel, params: ViTQuantParams, options: ExportOptions): Uint8Array {
  return buildQuantizedOnnx(model, params, options).bytes;
}

/** Byte sizes of an export (FP32 vs packed vs stored weights, file size) for the studio and the CLI. */
export function exportSummary(model: ViTModel, params: ViTQuantParams, options: ExportOptions): ExportSummary {
  return buildQuantizedOnnx(model, params, options).summary;
}

/** The export with everything it is made of: the model, its quantizer sites and weight records, sizes. */
export function buildQuantizedOnnx(model: ViTModel, params: ViTQuantParams, options: ExportOptions): QuantizedOnnx {
  const opset = options.opset ?? 13, format = options.format;
  if (!EXPORT_OPSETS.includes(opset)) throw new UsageError(`Export supports opsets ${EXPORT_OPSETS.join(', ')}, not ${opset}.`);
  if (format !== 'qdq' && format !== 'fake-quant-weights') throw new UsageError(`Unknown export format '${format}' (use qdq or fake-quant-weights).`);
  for (const [what, b] of [['weight', params.bitsW], ['activation', params.bitsA]] as const) {
    if (!(Number.isInteger(b) && b >= 2 && b <= 8)) throw new UsageError(`The ${what} bit width must be an integer from 2 to 8, not ${b}.`);
  }
  if (options.int4Weights && (opset < 21 || format !== 'qdq')) throw new UsageError('int4 weights need the qdq format at opset 21.');
  const c = model.config, g = new GraphBuilder(opset);
  const layers = weightLayers(model, params);
  const engine = engineWeights(quantizeModelWeights(model, params));
  const preferred = options.int4Weights && params.bitsW <= 4 ? 'int4' : 'int8';
  const weights: WeightRecord[] = [];
  const sizes: LayerSize[] = [];
  const weightTensor = new Map<string, string>();
  for (const l of layers) {   // one layer's codes at a time: ViT-B's would be ~700 MB all together
    const s = storeWeight(l, params.bitsW, params.rounding?.[l.key], preferred);
    assertSameWeights(s, engine.get(l.key)!);
    sizes.push({ count: s.codes.length, channels: s.scales.length, container: s.container });
    const rec = format === 'qdq' ? dequantizeWeight(g, s) : fakeQuantWeight(g, s, engine.get(l.key)!);
    weights.push(rec);
    weightTensor.set(l.name, rec.output);
  }
  const sites: ActSiteRecord[] = [];
  const input = g.input(c.inputName || 'pixel_values'), outputName = c.outputName || 'logits';
  buildVitGraph(model, params, {
    g,
    weight: (name) => {
      const t = weightTensor.get(name);
      if (!t) throw new InternalError(`Export: no weight tensor for ${name}.`);
      return t;
    },
    quant: (site, x, q) => {
      const r = emitActQuant(g, site, x, q, { bits: params.bitsA, tokens: c.tokens, qdq: format === 'qdq' });
      sites.push(r);
      return r.output;
    },
  }, input, outputName);
  const metadata = exportMetadata({ model, params, format, opset, sites, weights, settings: options.settings, extra: options.metadata });
  const onnxModel = buildModel({
    nodes: g.nodes, initializers: g.initializers, opset, metadata, irVersion: opset >= 21 ? 10 : opset >= 15 ? 8 : 7,
    inputs: [tensorInfo(input, ['batch', c.inChannels, c.imageSize, c.imageSize])],
    outputs: [tensorInfo(outputName, ['batch', c.numClasses])],
    graphName: 'adfq_quantized_vit',
    docString: `ViT quantized by adfq-studio: W${params.bitsW}A${params.bitsA}, ${format}.`,
  });
  const issues = checkGraph(onnxModel);
  if (issues.length) throw new InternalError(`Export: the graph fails the structural check: ${issues.slice(0, 5).join('; ')}`);
  const bytes = encodeModel(onnxModel);
  return { bytes, model: onnxModel, sites, weights, summary: summarize(model, params, format, opset, sizes, bytes.length) };
}

/** The engine's fake-quantized weights by rounding-mask key, canonical layout. */
function engineWeights(q: ViTModel): Map<string, Float32Array> {
  const w = q.weights, m = new Map<string, Float32Array>([['patch', w.patchW], ['head', w.headW]]);
  if (w.headDistW) m.set('headDist', w.headDistW);
  w.blocks.forEach((b: BlockWeights, i) => {
    m.set(`blocks.${i}.qkv`, b.qkvW); m.set(`blocks.${i}.proj`, b.projW); m.set(`blocks.${i}.fc1`, b.fc1W); m.set(`blocks.${i}.fc2`, b.fc2W);
  });
  return m;
}

/** Codes, scale and zero point initializers and the per-channel DequantizeLinear producing `<layer>.weight`. */
function dequantizeWeight(g: GraphBuilder, s: StoredWeight): WeightRecord {
  const codes = `${s.name}.weight_quantized`, scale = `${s.name}.weight_scale`, zeroPoint = `${s.name}.weight_zero_point`;
  const out = s.dims[s.axis];
  if (s.container === 'int4') {
    g.add(nibbleTensor(codes, s.dims, s.codes, ElemType.INT4));
    g.add(nibbleTensor(zeroPoint, [out], s.zeroPoints, ElemType.INT4));
  } else if (s.container === 'int8') {
    g.add(byteTensor(codes, s.dims, s.codes, ElemType.INT8));
    g.add(byteTensor(zeroPoint, [out], s.zeroPoints, ElemType.INT8));
  } else {
    g.add(int32Tensor(codes, s.dims, s.codes));   // int32 takes no zero point: codes are q − z
  }
  g.add(floatTensor(scale, [out], s.scales));
  const inputs = s.container === 'int32' ? [codes, scale] : [codes, scale, zeroPoint];
  const output = g.op('DequantizeLinear', inputs, `dequant/${s.name}`, { axis: attr.int(s.axis) }, `${s.name}.weight`);
  return { layer: s.name, key: s.key, storage: s.container, axis: s.axis, output, codes, scale, ...(s.container === 'int32' ? {} : { zeroPoint }), rounding: s.rounding,
    delta: s.quant.delta, zero: s.quant.zero };
}

/** The engine's fake-quantized weight as an FP32 initializer `<layer>.weight` in the stored layout. */
function fakeQuantWeight(g: GraphBuilder, s: StoredWeight, w: Float32Array): WeightRecord {
  const cols = s.quant.delta.length;
  const data = s.axis === 0 ? transposeF32(w, w.length / cols, cols) : w;
  const output = g.add(floatTensor(`${s.name}.weight`, s.dims, data));
  return { layer: s.name, key: s.key, storage: 'float32', axis: s.axis, output, rounding: s.rounding, delta: s.quant.delta, zero: s.quant.zero };
}

interface LayerSize { count: number; channels: number; container: StoredWeight['container'] }

function summarize(model: ViTModel, params: ViTQuantParams, format: ExportFormat, opset: number, sizes: LayerSize[], fileBytes: number): ExportSummary {
  const weightCount = sizes.reduce((a, s) => a + s.count, 0);
  const channels = sizes.reduce((a, s) => a + s.channels, 0);
  const bytesPer: Record<string, number> = { int4: 0.5, int8: 1, int32: 4 };
  const storage: Record<string, number> = {};
  let storedWeightBytes = 0;
  for (const s of sizes) {
    const kind = format === 'qdq' ? s.container : 'float32';
    storage[kind] = (storage[kind] ?? 0) + 1;
    storedWeightBytes += format === 'qdq'
      ? Math.ceil(s.count * bytesPer[s.container]) + 4 * s.channels + (s.container === 'int32' ? 0 : Math.ceil(s.channels * bytesPer[s.container]))
      : 4 * s.count;
  }
  const packedWeightBytes = sizes.reduce((a, s) => a + Math.ceil((s.count * params.bitsW) / 8), 0) + 5 * channels;
  const w = model.weights;
  let other = w.patchB.length + w.prefix.length + w.posEmbed.length + w.normGamma.length + w.normBeta.length + w.headB.length + (w.headDistB?.length ?? 0);
  for (const b of w.blocks) other += b.ln1Gamma.length + b.ln1Beta.length + b.qkvB.length + b.projB.length + b.ln2Gamma.length + b.ln2Beta.length + b.fc1B.length + b.fc2B.length;
  return { format, opset, bitsW: params.bitsW, weightCount, fp32WeightBytes: 4 * weightCount, packedWeightBytes, storedWeightBytes,
    otherParamBytes: 4 * other, fp32ModelBytes: 4 * (weightCount + other), fileBytes, storage };
}
