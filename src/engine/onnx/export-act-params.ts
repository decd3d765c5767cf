/**
 * The activation quantizers of an adfq-studio export, read from the initializers its site records name
 * (export/act-quant-nodes.ts writes them: scale, zero_point, tau, shift, levels) and checked against the
 * graph: each site's output is produced inside its `quant/<site>/` scope from the tensor the record names
 * and read by the rest of the graph; the bit width the metadata states is the one the graph computes with
 * (the Clip's top code, or the log levels table); each weight is read by the node that reads its site's
 * quantized input. Δ, z, τ and the shift are float32 in the file and in ViTQuantParams alike, so the
 * params come back exactly as exported.
 */
import type { ActQuant, BlockQuantParams, PpoqQuant, UniformTensorQuant, ViTQuantParams } from '../quant/params.ts';
import { logLevel } from '../reference/quant/log-quant.ts';
import { f32, levelsOf } from '../reference/quant/rounding.ts';
import { tensorSmallInts } from '../export/read-export.ts';
import { ExportMetadataError, type ExportMetadata, type ExportSiteRecord } from './export-metadata.ts';
import type { OnnxGraph } from './graph.ts';
import type { NodeProto } from './proto.ts';

export type ActivationParams = Pick<ViTQuantParams, 'patchIn' | 'headIn'> & {
  blocks: Omit<BlockQuantParams, 'qkvW' | 'projW' | 'fc1W' | 'fc2W'>[];
};

const fail = (message: string): never => { throw new ExportMetadataError(message); };

/** Which site's quantized tensor each weight layer multiplies. */
const WEIGHT_SITE: Record<string, string> = { patch: 'patch-in', head: 'head-in', headDist: 'head-in.dist', qkv: 'qkv-in', proj: 'proj-in', fc1: 'fc1-in', fc2: 'fc2-in' };

class SiteReader {
  constructor(private readonly g: OnnxGraph, private readonly nodes: Map<string, NodeProto>, readonly r: ExportSiteRecord, readonly bits: number) {}

  private name(role: string): string {
    const name = this.r.tensors[role] ?? fail(`Its record of site ${this.r.site} names no '${role}' tensor.`);
    if (!this.g.isConst(name)) fail(`Site ${this.r.site} names the tensor '${name}', which the file does not hold.`);
    return name;
  }

  floats(role: string, count: number): number[] {
    const f = this.g.floats(this.name(role))!;
    if (f.data.length !== count) fail(`The ${role} of site ${this.r.site} holds ${f.data.length} values; ${count} are needed.`);
    return Array.from(f.data);
  }

  /** Positive, finite step sizes. */
  steps(count: number): number[] {
    const d = this.floats('scale', count);
    if (!d.every((v) => Number.isFinite(v) && v > 0)) fail(`Site ${this.r.site} has a step size that is not a positive number.`);
    return d;
  }

  /** Integer zero points: float32 in the float form, uint8 in the QDQ form. */
  zeros(count: number): number[] {
    const name = this.name('zero_point');
    const z = this.r.form === 'qdq-uint8' ? Array.from(tensorSmallInts(this.g.constTensor(name)!.tensor, name)) : this.floats('zero_point', count);
    if (z.length !== count || !z.every(Number.isInteger)) fail(`The zero point of site ${this.r.site} is not ${count} integer(s).`);
    return z;
  }

  /** The graph computes with the stated bit width: the uniform Clip's top, or QDQ's 8 bits. */
  checkUniformBits(): void {
    if (this.r.form === 'qdq-uint8') {
      if (this.bits !== 8) fail(`Site ${this.r.site} is written as uint8 QuantizeLinear, which only 8-bit activations use; the metadata says ${this.bits}.`);
      return;
    }
    const clip = this.nodes.get(`quant/${this.r.site}/Clip`);
    const top = clip ? this.g.scalar(this.g.input(clip, 2)) : null;
    if (top !== levelsOf(this.bits) - 1) fail(`Site ${this.r.site} clips its codes at ${top}; ${this.bits}-bit activations clip at ${levelsOf(this.bits) - 1}.`);
  }

  /** The levels table holds the log (or shifted SLQ) levels of Δ at the stated bits. */
  checkLevels(delta: number, base: 'sqrt2' | '2', shift: number | null): void {
    const eps = f32(1e-6);
    const expect = Array.from({ length: levelsOf(this.bits) + 1 }, (_, k) => {
      const v = logLevel(k, this.bits, delta, base);
      return shift === null ? v : f32(f32(v + shift) - eps);
    });
    const have = this.floats('levels', expect.length);
    if (have.some((v, k) => v !== expect[k])) fail(`The levels table of site ${this.r.site} is not the ${this.bits}-bit log${base === '2' ? '2' : '√2'} levels of its step size.`);
    if (shift !== null && this.floats('eps', 1)[0] !== eps) fail(`Site ${this.r.site} adds an epsilon other than SLQ's 1e-6.`);
  }

  /** The output comes out of this site's subgraph, which reads the stated input, and something reads it. */
  checkWiring(): void {
    const { site, input, output } = this.r, scope = `quant/${site}/`;
    if (this.r.bits !== this.bits) fail(`Its record of site ${site} says ${this.r.bits} bits; 'adfq.quant.bits_a' says ${this.bits}.`);
    if (!(this.g.producer(output)?.name ?? '').startsWith(scope)) fail(`Site ${site}'s output '${output}' is not produced by its quantizer nodes (${scope}…).`);
    if (!this.g.consumers(input).some((n) => (n.name ?? '').startsWith(scope))) fail(`Site ${site}'s quantizer does not read its stated input '${input}'.`);
    if (this.g.consumers(output).length === 0) fail(`Nothing in the graph reads the output of site ${site}.`);
  }
}

function siteQuant(s: SiteReader, tokens: number): ActQuant {
  s.checkWiring();
  const r = s.r;
  switch (r.quantizer) {
    case 'uniform':
      s.checkUniformBits();
      return { kind: 'uniform', delta: s.steps(1)[0], zero: s.zeros(1)[0] };
    case 'ppoq': {
      s.checkUniformBits();
      const tau = s.floats('tau', 1)[0];
      if (!(Number.isFinite(tau) && tau > 0)) fail(`The PPOQ threshold τ of site ${r.site} is ${tau}; a positive number is needed.`);
      return { kind: 'ppoq', tau, delta: s.steps(tokens), zero: s.zeros(tokens) };
    }
    case 'log': {
      const delta = s.steps(1)[0];
      s.checkLevels(delta, r.base!, null);
      return { kind: 'log', delta, base: r.base! };
    }
    case 'slq': {
      const delta = s.steps(1)[0], shift = s.floats('shift', 1)[0];
      s.checkLevels(delta, r.base!, shift);
      return { kind: 'slq', delta, base: r.base!, shift };
    }
  }
}

const same = (a: ActQuant, b: ActQuant) => JSON.stringify(a) === JSON.stringify(b);

/** Every activation quantizer of the export, checked against the graph; `imageInput` is the graph's input. */
export function readActivationParams(g: OnnxGraph, meta: ExportMetadata, imageInput: string): ActivationParams {
  const nodes = new Map(g.nodes.map((n) => [n.name ?? '', n]));
  const tokens = meta.shape.tokens;
  const read = (site: string) => siteQuant(new SiteReader(g, nodes, meta.sites.get(site)!, meta.bitsA), tokens);
  if (meta.sites.get('patch-in')!.input !== imageInput) fail(`Its first quantizer (patch-in) reads '${meta.sites.get('patch-in')!.input}', not the image input '${imageInput}'.`);
  const patchIn = read('patch-in') as UniformTensorQuant, headIn = read('head-in') as UniformTensorQuant;
  if (meta.sites.has('head-in.dist') && !same(read('head-in.dist'), headIn)) fail('Its two head-input quantizers (head-in, head-in.dist) differ; the engine shares one.');
  const blocks = Array.from({ length: meta.shape.depth }, (_, i) => {
    const at = (s: string) => read(`blocks.${i}.${s}`);
    return {
      qkvIn: at('qkv-in') as PpoqQuant | UniformTensorQuant, q: at('q') as UniformTensorQuant, k: at('k') as UniformTensorQuant, v: at('v') as UniformTensorQuant,
      probs: at('attn-probs') as ActivationParams['blocks'][number]['probs'], projIn: at('proj-in') as UniformTensorQuant,
      fc1In: at('fc1-in') as PpoqQuant | UniformTensorQuant, fc2In: at('fc2-in') as ActivationParams['blocks'][number]['fc2In'],
    };
  });
  for (const [key, w] of meta.weights) {
    const block = key.match(/^blocks\.(\d+)\.(\w+)$/);
    const site = block ? `blocks.${block[1]}.${WEIGHT_SITE[block[2]]}` : WEIGHT_SITE[key];
    const x = meta.sites.get(site)!.output;
    if (!g.consumers(w.output).some((n) => (n.input ?? []).includes(x))) fail(`The weight ${w.layer} ('${w.output}') is not multiplied with the output of site ${site}.`);
  }
  return { patchIn, headIn, blocks };
}
