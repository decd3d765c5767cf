/**
 * metadata_props of an exported model: the export format, every quantizer (site, type, form and the
 * names of its tensors; the numbers themselves live in the initializers), the weight layers, the method
 * and settings, the model's shape, and preprocessing and labels under the keys our importer reads
 * (onnx/metadata.ts), so an exported file carries what evaluation needs.
 */
import { UsageError } from '../errors.ts';
import type { QuantizeSettings } from '../quant/settings.ts';
import type { ViTQuantParams } from '../quant/params.ts';
import type { ViTModel } from '../vit/description.ts';
import type { ActSiteRecord } from './act-quant-nodes.ts';
import type { StoredWeight } from './weight-storage.ts';

/** Bumped when the graph layout or these keys change incompatibly. */
export const EXPORT_FORMAT_VERSION = '1';

export interface WeightRecord {
  layer: string;
  key: string;
  /** 'int4' | 'int8' | 'int32' (DequantizeLinear) or 'float32' (fake-quantized values). */
  storage: string;
  axis: number;
  /** Tensor the MatMul/Conv reads; for DequantizeLinear also its codes, scale and zero point. */
  output: string;
  codes?: string; scale?: string; zeroPoint?: string;
  rounding: StoredWeight['rounding'];
  /** The weight quantizer per output channel (Δ, z): exact in every format, which the values alone are not. */
  delta: number[]; zero: number[];
}

export interface MetadataInput {
  model: ViTModel;
  params: ViTQuantParams;
  format: string;
  opset: number;
  sites: ActSiteRecord[];
  weights: WeightRecord[];
  settings?: QuantizeSettings;
  extra?: Record<string, string>;
}

const RESERVED = ['adfq.export.', 'adfq.quant.'];

export function exportMetadata(m: MetadataInput): Record<string, string> {
  const c = m.model.config;
  const meta: Record<string, string> = {
    'adfq.export.version': EXPORT_FORMAT_VERSION,
    'adfq.export.format': m.format,
    'adfq.export.opset': String(m.opset),
    'adfq.quant.bits_w': String(m.params.bitsW),
    'adfq.quant.bits_a': String(m.params.bitsA),
    'adfq.quant.method': m.settings?.method ?? 'unknown',
    'adfq.quant.sites': JSON.stringify(m.sites),
    'adfq.quant.weights': JSON.stringify(m.weights),
    'adfq.quant.asmo': m.params.rounding && Object.keys(m.params.rounding).length ? 'rounding' : 'none',
    'adfq.model': JSON.stringify({ style: c.style, imageSize: c.imageSize, patch: c.patch, inChannels: c.inChannels, dim: c.dim, depth: c.depth,
      heads: c.heads, mlpDim: c.mlpDim, numClasses: c.numClasses, prefixTokens: c.prefixTokens, tokens: c.tokens, lnEps: c.lnEps, gelu: c.gelu }),
  };
  if (m.settings) meta['adfq.quant.settings'] = JSON.stringify(m.settings);
  const pre = c.preprocessing;
  if (pre) {
    meta['adfq.mean'] = pre.mean.join(',');
    meta['adfq.std'] = pre.std.join(',');
    meta['adfq.resize'] = String(pre.resize);
    meta['adfq.crop'] = String(c.imageSize);
  }
  if (c.labels) meta['adfq.labels'] = JSON.stringify(c.labels);
  for (const [k, v] of Object.entries(m.extra ?? {})) {
    if (RESERVED.some((r) => k.startsWith(r))) throw new UsageError(`Metadata key '${k}' is written by the exporter itself; choose another key.`);
    meta[k] = v;
  }
  return meta;
}
