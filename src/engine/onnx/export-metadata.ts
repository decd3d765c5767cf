/**
 * The metadata of an adfq-studio export (export/metadata.ts writes it), parsed and checked for shape:
 * format and version, bit widths, method and settings, the model's shape (`adfq.model`), one record per
 * quantizer site and per weight layer, each site and layer exactly once. The records are checked against
 * the graph by export-act-params.ts and export-weight-params.ts; anything that does not fit is an
 * ExportMetadataError naming the key, site or tensor.
 */
import { AdfqError } from '../errors.ts';
import { METHODS, type QuantizeSettings } from '../quant/settings.ts';
import type { WeightLayer } from '../quant/weight-rounding.ts';
import type { ExportStyle, GeluKind } from '../vit/description.ts';
import { LIMITS } from './limits.ts';
import type { ModelProto } from './proto.ts';

/** An export whose metadata is malformed or disagrees with its graph (code 'export-metadata'). */
export class ExportMetadataError extends AdfqError {
  constructor(message: string) {
    super('export-metadata', `${message} The file is not a consistent adfq-studio export; export the model again from the studio or \`npx adfq quantize --out\`.`);
  }
}

export const READ_EXPORT_VERSIONS = ['1'];
export const EXPORT_FORMATS = ['qdq', 'fake-quant-weights'] as const;
export type ExportFileFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportSiteRecord {
  site: string; quantizer: 'uniform' | 'ppoq' | 'log' | 'slq'; form: 'float' | 'qdq-uint8'; bits: number;
  input: string; output: string; tensors: Record<string, string>; base?: 'sqrt2' | '2';
}

export interface ExportWeightRecord {
  layer: string; key: WeightLayer; storage: 'int4' | 'int8' | 'int32' | 'float32'; axis: number; output: string;
  codes?: string; scale?: string; zeroPoint?: string; rounding: 'nearest' | 'adaround';
  /** Per output channel Δ and z, when the exporter records them (the only exact source for fake-quant-weights). */
  delta?: number[]; zero?: number[];
}

export interface ExportShape {
  style: ExportStyle; imageSize: number; patch: number; inChannels: number; dim: number; depth: number; heads: number;
  mlpDim: number; numClasses: number; prefixTokens: number; tokens: number; lnEps: number; gelu: GeluKind;
}

export interface ExportMetadata {
  version: string; format: ExportFileFormat; opset: number; bitsW: number; bitsA: number;
  method: string; settings: QuantizeSettings | null; shape: ExportShape;
  /** By site name, in file order. */
  sites: Map<string, ExportSiteRecord>;
  /** By rounding-mask key, in file order. */
  weights: Map<WeightLayer, ExportWeightRecord>;
}

/** Allowed quantizers per site kind (params.ts: ablations replace PPOQ, log√2 and SLQ by uniform). */
const SITE_KINDS: Record<string, ExportSiteRecord['quantizer'][]> = {
  'patch-in': ['uniform'], 'head-in': ['uniform'], 'head-in.dist': ['uniform'], q: ['uniform'], k: ['uniform'], v: ['uniform'],
  'proj-in': ['uniform'], 'qkv-in': ['ppoq', 'uniform'], 'fc1-in': ['ppoq', 'uniform'], 'attn-probs': ['log', 'uniform'], 'fc2-in': ['slq', 'uniform'],
};
const BLOCK_SITES = ['qkv-in', 'q', 'k', 'v', 'attn-probs', 'proj-in', 'fc1-in', 'fc2-in'];
const BLOCK_LAYERS: [string, string][] = [['qkv', 'attn.qkv'], ['proj', 'attn.proj'], ['fc1', 'mlp.fc1'], ['fc2', 'mlp.fc2']];

/** True when the model carries adfq-studio export metadata (`adfq.export.version`). */
export function isAdfqExport(model: ModelProto): boolean {
  return (model.metadataProps ?? []).some((p) => p.key === 'adfq.export.version');
}

const fail = (message: string): never => { throw new ExportMetadataError(message); };

/** JSON nesting allowed in the metadata (the exporter writes 3 levels); deeper values would make every
 * message that shows one (`${value}`, JSON.stringify) recurse until the stack overflows. */
const MAX_JSON_DEPTH = 8;

function depthOf(value: unknown): number {
  let depth = 0;
  for (let level: unknown[] = [value]; level.length > 0 && depth <= MAX_JSON_DEPTH; depth++) {
    level = level.flatMap((v) => (v !== null && typeof v === 'object' ? Object.values(v) : []));
  }
  return depth;
}

function json(meta: Map<string, string>, key: string): unknown {
  const text = meta.get(key);
  if (text === undefined) return fail(`Its metadata has no '${key}'.`);
  let value: unknown;
  try { value = JSON.parse(text); } catch { return fail(`Its metadata '${key}' is not valid JSON.`); }
  if (depthOf(value) > MAX_JSON_DEPTH) fail(`Its metadata '${key}' nests more than ${MAX_JSON_DEPTH} levels deep.`);
  return value;
}

const isInt = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

function bitsOf(meta: Map<string, string>, key: string): number {
  const b = Number(meta.get(key));
  return isInt(b, 2, 8) ? b : fail(`Its metadata '${key}' is '${meta.get(key)}'; a bit width from 2 to 8 is needed.`);
}

function readShape(v: unknown): ExportShape {
  const s = (v ?? {}) as Record<string, unknown>;
  const int = (k: string, hi: number, lo = 1) => (isInt(s[k], lo, hi) ? (s[k] as number) : fail(`Its metadata 'adfq.model' has ${k} = ${JSON.stringify(s[k])}; an integer from ${lo} to ${hi} is needed.`));
  const shape: ExportShape = {
    style: ['timm', 'huggingface', 'deit-distilled'].includes(s.style as string) ? (s.style as ExportStyle) : fail(`Its metadata 'adfq.model' has style ${JSON.stringify(s.style)}.`),
    imageSize: int('imageSize', LIMITS.maxImageSize), patch: int('patch', LIMITS.maxPatch), inChannels: int('inChannels', LIMITS.maxInChannels),
    dim: int('dim', LIMITS.maxWidth), depth: int('depth', LIMITS.maxDepth), heads: int('heads', LIMITS.maxHeads), mlpDim: int('mlpDim', LIMITS.maxMlpDim),
    numClasses: int('numClasses', LIMITS.maxClasses), prefixTokens: int('prefixTokens', 2), tokens: int('tokens', LIMITS.maxTokens),
    lnEps: typeof s.lnEps === 'number' && s.lnEps > 0 && s.lnEps < 1 ? s.lnEps : fail(`Its metadata 'adfq.model' has lnEps = ${JSON.stringify(s.lnEps)}.`),
    gelu: s.gelu === 'erf' || s.gelu === 'tanh' ? s.gelu : fail(`Its metadata 'adfq.model' has gelu = ${JSON.stringify(s.gelu)}.`),
  };
  const grid = shape.imageSize / shape.patch;
  if (!Number.isInteger(grid) || shape.tokens !== shape.prefixTokens + grid * grid || shape.dim % shape.heads !== 0) {
    fail(`Its metadata 'adfq.model' is inconsistent: image ${shape.imageSize}, patch ${shape.patch}, ${shape.prefixTokens} prefix tokens and ${shape.tokens} tokens, width ${shape.dim} over ${shape.heads} heads.`);
  }
  return shape;
}

function readSites(v: unknown, shape: ExportShape, distilled: boolean): Map<string, ExportSiteRecord> {
  if (!Array.isArray(v)) return fail("Its metadata 'adfq.quant.sites' is not a list.");
  const sites = new Map<string, ExportSiteRecord>();
  for (const r of v as ExportSiteRecord[]) {
    const site = typeof r?.site === 'string' ? r.site : fail("A record of 'adfq.quant.sites' has no site name.");
    const kind = site.startsWith('blocks.') ? site.slice(site.indexOf('.', 7) + 1) : site;
    const allowed = SITE_KINDS[kind] ?? fail(`Its metadata names an unknown quantizer site '${site}'.`);
    if (!allowed.includes(r.quantizer)) fail(`Its metadata puts a '${r.quantizer}' quantizer at ${site}, where ${allowed.join(' or ')} belongs.`);
    if (r.form !== 'float' && r.form !== 'qdq-uint8') fail(`Its metadata gives site ${site} the form '${r.form}'.`);
    if (typeof r.input !== 'string' || typeof r.output !== 'string' || !r.tensors || typeof r.tensors !== 'object') fail(`Its metadata record of site ${site} lacks its input, output or tensors.`);
    if ((r.quantizer === 'log' || r.quantizer === 'slq') && r.base !== 'sqrt2' && r.base !== '2') fail(`Its metadata gives the log quantizer at ${site} the base ${JSON.stringify(r.base)}.`);
    if (sites.has(site)) fail(`Its metadata lists the quantizer site ${site} twice.`);
    sites.set(site, r);
  }
  const expected = ['patch-in', ...Array.from({ length: shape.depth }, (_, i) => BLOCK_SITES.map((s) => `blocks.${i}.${s}`)).flat(), 'head-in', ...(distilled ? ['head-in.dist'] : [])];
  // A Set: a hostile file may list millions of sites, and a list lookup per site would be quadratic.
  const wanted = new Set(expected);
  const missing = expected.filter((s) => !sites.has(s)), extra = [...sites.keys()].filter((s) => !wanted.has(s));
  if (missing.length || extra.length) fail(`Its quantizer sites do not fit a ${shape.depth}-block ViT: ${missing.length ? `missing ${missing.slice(0, 3).join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.slice(0, 3).join(', ')}` : ''}.`);
  return sites;
}

function readWeights(v: unknown, shape: ExportShape, format: ExportFileFormat, distilled: boolean): Map<WeightLayer, ExportWeightRecord> {
  if (!Array.isArray(v)) return fail("Its metadata 'adfq.quant.weights' is not a list.");
  const names = new Map<string, string>([['patch', 'patch_embed.proj'], ['head', 'head'], ...(distilled ? [['headDist', 'head_dist'] as [string, string]] : [])]);
  for (let i = 0; i < shape.depth; i++) for (const [k, l] of BLOCK_LAYERS) names.set(`blocks.${i}.${k}`, `blocks.${i}.${l}`);
  const weights = new Map<WeightLayer, ExportWeightRecord>();
  for (const r of v as ExportWeightRecord[]) {
    const layer = names.get(r?.key) ?? fail(`Its metadata 'adfq.quant.weights' has an unexpected layer ${JSON.stringify(r?.key)}.`);
    if (r.layer !== layer) fail(`Its metadata calls weight layer ${r.key} '${r.layer}'; the export layout names it '${layer}'.`);
    if (weights.has(r.key)) fail(`Its metadata lists weight layer ${r.key} twice.`);
    const storages = format === 'qdq' ? ['int4', 'int8', 'int32'] : ['float32'];
    if (!storages.includes(r.storage)) fail(`Its metadata stores ${r.layer} as '${r.storage}', which a ${format} export does not use.`);
    if (r.axis !== (r.key === 'patch' ? 0 : 1)) fail(`Its metadata gives ${r.layer} the channel axis ${r.axis}.`);
    if (r.rounding !== 'nearest' && r.rounding !== 'adaround') fail(`Its metadata gives ${r.layer} the rounding '${r.rounding}'.`);
    if (typeof r.output !== 'string' || (r.storage !== 'float32' && (typeof r.codes !== 'string' || typeof r.scale !== 'string'))) fail(`Its metadata record of ${r.layer} lacks its tensor names.`);
    if ((r.delta === undefined) !== (r.zero === undefined)) fail(`Its metadata record of ${r.layer} has step sizes without zero points, or the reverse.`);
    weights.set(r.key, r);
  }
  const missing = [...names.keys()].filter((k) => !weights.has(k as WeightLayer));
  if (missing.length) fail(`Its metadata 'adfq.quant.weights' lacks ${missing.slice(0, 3).join(', ')}.`);
  return weights;
}

/** The export metadata of a model, or null when it is not an adfq-studio export. */
export function readExportMetadata(model: ModelProto): ExportMetadata | null {
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const version = meta.get('adfq.export.version');
  if (version === undefined) return null;
  if (!READ_EXPORT_VERSIONS.includes(version)) fail(`Its export format version is '${version}'; this adfq-studio reads version ${READ_EXPORT_VERSIONS.join(', ')}.`);
  const format = meta.get('adfq.export.format') as ExportFileFormat;
  if (!EXPORT_FORMATS.includes(format)) fail(`Its metadata 'adfq.export.format' is '${format}'; qdq or fake-quant-weights is needed.`);
  const shape = readShape(json(meta, 'adfq.model'));
  const weightsJson = json(meta, 'adfq.quant.weights');
  const distilled = Array.isArray(weightsJson) && weightsJson.some((w) => w?.key === 'headDist');
  if (distilled !== (shape.prefixTokens === 2)) fail(`Its metadata describes ${shape.prefixTokens} prefix token(s) but ${distilled ? 'a' : 'no'} distillation head.`);
  const settings = meta.has('adfq.quant.settings') ? (json(meta, 'adfq.quant.settings') as QuantizeSettings) : null;
  const method = meta.get('adfq.quant.method') ?? 'unknown';
  if (method !== 'unknown' && !(METHODS as readonly string[]).includes(method)) fail(`Its metadata 'adfq.quant.method' is '${method}'.`);
  const bitsW = bitsOf(meta, 'adfq.quant.bits_w'), bitsA = bitsOf(meta, 'adfq.quant.bits_a');
  if (settings && (typeof settings !== 'object' || settings.bitsW !== bitsW || settings.bitsA !== bitsA || settings.method !== method)) {
    fail(`Its metadata 'adfq.quant.settings' (W${settings?.bitsW}A${settings?.bitsA} ${settings?.method}) disagrees with 'adfq.quant.bits_w/bits_a/method' (W${bitsW}A${bitsA} ${method}).`);
  }
  return {
    version, format, opset: Number(meta.get('adfq.export.opset')) || 0, bitsW, bitsA, method, settings, shape,
    sites: readSites(json(meta, 'adfq.quant.sites'), shape, distilled),
    weights: readWeights(weightsJson, shape, format, distilled),
  };
}
