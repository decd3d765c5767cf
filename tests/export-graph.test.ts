/**
 * The quantized ONNX export on the CPU (no GPU): each quantizer subgraph in onnxruntime equals its
 * bit-exact twin bit for bit; whole exports of the importer fixtures (timm, DeiT-distilled, Hugging Face,
 * odd sizes; erf/tanh; both formats, opsets 13/17/21) pass the structural check and compute what the CPU
 * twin of QuantViTRunner computes; the weights in the file (read back, and dequantized by onnxruntime
 * itself) are the engine's bit for bit, zero points outside the int4/int8 range included.
 */
import { describe, expect, it } from 'vitest';
import { emitActQuant, type ActQuantContext } from '../src/engine/export/act-quant-nodes.ts';
import { checkGraph } from '../src/engine/export/check-graph.ts';
import { buildQuantizedOnnx, exportQuantizedOnnx, exportSummary, type ExportOptions } from '../src/engine/export/export-onnx.ts';
import { GraphBuilder } from '../src/engine/export/graph-builder.ts';
import { readExportedWeights, readExportRecords } from '../src/engine/export/read-export.ts';
import { buildModel, encodeModel, node, tensorInfo } from '../src/engine/onnx/onnx-writer.ts';
import { decodeModel, onnx, type ModelInit } from '../src/engine/onnx/proto.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { fakeQuantActCpu, quantizeModelWeights } from '../src/engine/quant/apply-cpu.ts';
import { minMaxParams } from '../src/engine/quant/min-max.ts';
import { SLQ_SHIFT, type ActQuant, type ViTQuantParams } from '../src/engine/quant/params.ts';
import { logThresholds } from '../src/engine/reference/quant/log-quant.ts';
import { bitsF32, f32 } from '../src/engine/reference/quant/rounding.ts';
import { vitForwardQuantCpu } from '../src/engine/reference/vit-forward-quant.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { bitDiffs, engineWeights, ortLogits, ortRun } from './export-helpers.ts';
import { loadFixture } from './fixtures/onnx/io.ts';
import { logitStats, randomImages } from './quant-model-helpers.ts';

/** One quantizer as a whole model: x [shape] → quantizer → y. */
function quantizerModel(q: ActQuant, shape: number[], c: ActQuantContext, opset = 13): { bytes: Uint8Array; form: string } {
  const g = new GraphBuilder(opset);
  const x = g.input('x');
  const r = emitActQuant(g, 'site', x, q, c);
  const model = buildModel({ nodes: g.nodes, initializers: g.initializers, opset, inputs: [tensorInfo('x', shape)], outputs: [tensorInfo(r.output, shape)] });
  expect(checkGraph(model)).toEqual([]);
  return { bytes: encodeModel(model), form: r.form };
}

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
const nextUp = (v: number) => { const a = new Float32Array([v]), u = new Uint32Array(a.buffer); u[0] += v >= 0 ? 1 : -1; return a[0]; };
const nextDown = (v: number) => { const a = new Float32Array([v]), u = new Uint32Array(a.buffer); u[0] += v > 0 ? -1 : 1; return a[0]; };

/** Random values, ties and their neighbours, signed zeros and infinities. */
function uniformValues(delta: number, n: number): Float32Array {
  const v: number[] = [0, -0, Infinity, -Infinity];
  for (let k = -40; k <= 40; k++) { const t = f32((k + 0.5) * delta); v.push(t, nextUp(t), nextDown(t)); }
  while (v.length < n) v.push((rand() - 0.5) * 60 * delta);
  return Float32Array.from(v.slice(0, n));
}

/** Values whose quotient by Δ (a power of two: exact) sits on and next to every log decision threshold. */
function logValues(bits: number, base: 'sqrt2' | '2', delta: number, n: number): Float32Array {
  const v: number[] = [0, -0, -1, Infinity, NaN, delta, 2 * delta];
  for (const b of logThresholds(bits, base)) { const t = bitsF32(b) * delta; v.push(t, nextUp(t), nextDown(t)); }
  while (v.length < n) v.push(delta * rand() ** 6 * 1.3);
  return Float32Array.from(v.slice(0, n));
}

describe('each activation quantizer subgraph equals its twin bit for bit in onnxruntime', () => {
  const N = 5, C = 8;
  it.each([2, 3, 4, 6, 8])('uniform per tensor at %i bits, float form (and QuantizeLinear/DequantizeLinear at 8 bits)', async (bits) => {
    for (const [delta, zero] of [[f32(0.0173), 3], [f32(0.25), -2], [f32(1.7e-3), 2 ** bits + 5]]) {
      const q: ActQuant = { kind: 'uniform', delta, zero };
      const x = uniformValues(delta, 400), want = fakeQuantActCpu(q, x, 400, 1, bits);
      for (const qdq of [false, true]) {
        const m = quantizerModel(q, [400], { bits, tokens: 1, qdq });
        expect(m.form).toBe(qdq && bits === 8 && zero >= 0 && zero <= 255 ? 'qdq-uint8' : 'float');
        const y = (await ortRun(m.bytes, x, [400]))[`quant/site/output`].data as Float32Array;
        expect(bitDiffs(y, want), `Δ ${delta} z ${zero} ${m.form}`).toEqual([]);
      }
    }
  });

  it.each([4, 8])('PPOQ per token at %i bits: outliers pass in FP32, both forms', async (bits) => {
    const q: ActQuant = { kind: 'ppoq', tau: 2.5, delta: Array.from({ length: N }, (_, n) => f32(0.01 + 0.013 * n)), zero: [0, 3, 7, 12, 15] };
    const shape = [3, N, C], count = 3 * N * C;
    const x = Float32Array.from({ length: count }, (_, i) => (i % 11 === 0 ? 2.5 : i % 13 === 0 ? -2.5000002 : (rand() - 0.5) * 8));
    const want = fakeQuantActCpu(q, x, C, N, bits);
    for (const qdq of [false, true]) {
      const m = quantizerModel(q, shape, { bits, tokens: N, qdq });
      const y = (await ortRun(m.bytes, x, shape))['quant/site/output'].data as Float32Array;
      expect(bitDiffs(y, want), m.form).toEqual([]);
    }
  });

  it.each([[3, 'sqrt2'], [4, 'sqrt2'], [8, 'sqrt2'], [4, '2'], [6, '2']] as const)('log at %i bits base %s: codes from the exact thresholds, zero code, levels', async (bits, base) => {
    const q: ActQuant = { kind: 'log', delta: 0.5, base };
    const x = logValues(bits, base, 0.5, 600), want = fakeQuantActCpu(q, x, 600, 1, bits);
    const y = (await ortRun(quantizerModel(q, [600], { bits, tokens: 1, qdq: true }).bytes, x, [600]))['quant/site/output'].data as Float32Array;
    expect(bitDiffs(y, want)).toEqual([]);
    // A step that is not a power of two: the quotient rounds, the subgraph still follows the twin.
    const q2: ActQuant = { kind: 'log', delta: f32(0.0371), base };
    const x2 = Float32Array.from({ length: 2000 }, () => 0.05 * rand() ** 4);
    const y2 = (await ortRun(quantizerModel(q2, [2000], { bits, tokens: 1, qdq: false }).bytes, x2, [2000]))['quant/site/output'].data as Float32Array;
    expect(bitDiffs(y2, fakeQuantActCpu(q2, x2, 2000, 1, bits))).toEqual([]);
  });

  it.each([[4, 'sqrt2'], [8, 'sqrt2'], [4, '2']] as const)('SLQ at %i bits base %s with the constant shift', async (bits, base) => {
    const q: ActQuant = { kind: 'slq', delta: f32(1.93), base, shift: SLQ_SHIFT };
    const x = Float32Array.from({ length: 1000 }, (_, i) => (i < 4 ? [SLQ_SHIFT, -0.17, 0, -1][i] : rand() < 0.5 ? -0.17 * rand() : 6 * rand() ** 3));
    const y = (await ortRun(quantizerModel(q, [1000], { bits, tokens: 1, qdq: true }).bytes, x, [1000]))['quant/site/output'].data as Float32Array;
    expect(bitDiffs(y, fakeQuantActCpu(q, x, 1000, 1, bits))).toEqual([]);
  });
});

const FIXTURES = ['timm_op17_tanh_dynamic', 'deit_distilled_op13_fixed', 'hf_op17_fixed', 'odd_p5_c4_op17_tanhpow', 'odd_p6_c1_op13_erfmul'];
const VARIANTS: ExportOptions[] = [
  { format: 'qdq', opset: 13 }, { format: 'qdq', opset: 17 }, { format: 'qdq', opset: 21, int4Weights: true },
  { format: 'fake-quant-weights', opset: 13 }, { format: 'fake-quant-weights', opset: 21 },
];
const IMAGES = 6;

function setup(name: string, bits: number, ablation = {}) {
  const model = importViT(loadFixture(name).bytes), c = model.config;
  const pixels = randomImages(IMAGES, c.inChannels * c.imageSize ** 2, 11);
  const params = minMaxParams(model, pixels, 4, { bitsW: bits, bitsA: bits, ablation });
  return { model, pixels, params, shape: [IMAGES, c.inChannels, c.imageSize, c.imageSize] };
}

/** The file's weights equal quantizeModelWeights', read back by us. */
function expectExactWeights(bytes: Uint8Array, model: ViTModel, params: ViTQuantParams) {
  const file = readExportedWeights(bytes);
  const engine = engineWeights(quantizeModelWeights(model, params));
  expect([...file.keys()].sort()).toEqual([...engine.keys()].sort());
  for (const [key, w] of engine) expect(bitDiffs(file.get(key)!, w).length, key).toBe(0);
}

describe.each(FIXTURES)('export of %s', (name) => {
  it.each([8, 4])('%i bits: every format and opset passes the check, holds the engine\'s weights and computes the CPU twin\'s logits', async (bits) => {
    const { model, pixels, params, shape } = setup(name, bits);
    const cpu = vitForwardQuantCpu(model, params, pixels, IMAGES);
    for (const options of VARIANTS) {
      const out = buildQuantizedOnnx(model, params, options);
      const what = `${options.format} opset ${options.opset}`;
      expect(checkGraph(out.bytes), what).toEqual([]);
      expect(out.sites.length).toBe(2 + 8 * model.config.depth + (params.headDistW ? 1 : 0));
      expectExactWeights(out.bytes, model, params);
      const s = logitStats(await ortLogits(out.bytes, pixels, shape), cpu, model.config.numClasses);
      expect(s.medianDiff, what).toBeLessThan(1e-5);
      expect(s.maxDiff, what).toBeLessThan(0.05 * s.range);
      expect(s.agree, what).toBe(IMAGES);
    }
  });
});

describe('quantizer variants and weight storage', () => {
  it('ablations (all uniform) and base-2 log/SLQ export and compute like the twin', async () => {
    for (const [ablation, base] of [[{ ppoqQkv: true, ppoqFc1: true, slq: true, logProbs: true }, 'sqrt2'], [{}, '2']] as const) {
      const { model, pixels, params, shape } = setup('timm_op17_tanh_dynamic', 4, ablation);
      const p: ViTQuantParams = { ...params, blocks: params.blocks.map((b) => ({ ...b,
        probs: b.probs.kind === 'log' ? { ...b.probs, base } : b.probs, fc2In: b.fc2In.kind === 'slq' ? { ...b.fc2In, base } : b.fc2In })) };
      const cpu = vitForwardQuantCpu(model, p, pixels, IMAGES);
      const out = buildQuantizedOnnx(model, p, { format: 'qdq', opset: 17 });
      const kinds = new Set(out.sites.map((s) => s.quantizer));
      expect(kinds.has('ppoq')).toBe(!('ppoqQkv' in ablation));
      const s = logitStats(await ortLogits(out.bytes, pixels, shape), cpu, 10);
      expect(s.medianDiff).toBeLessThan(1e-5);
      expect(s.agree).toBe(IMAGES);
    }
  });

  it('zero points outside the int4/int8 range: shifted codes, else a wider container; still exact', async () => {
    for (const [bits, z, preferred, expected] of [[4, 12, true, 'int4'], [4, -20, true, 'int8'], [8, -200, false, 'int8'], [8, 600, false, 'int32'], [8, -300, false, 'int32'], [6, -60, false, 'int8']] as const) {
      const { model, pixels, params, shape } = setup('timm_op17_tanh_dynamic', bits);
      const fc1 = params.blocks[0].fc1W;
      const p: ViTQuantParams = { ...params, blocks: params.blocks.map((b, i) => (i === 0 ? { ...b, fc1W: { ...fc1, zero: fc1.zero.map((v, o) => (o === 1 ? z : v)) } } : b)) };
      const out = buildQuantizedOnnx(model, p, { format: 'qdq', opset: 21, int4Weights: preferred });
      expect(out.weights.find((w) => w.key === 'blocks.0.fc1')!.storage, `b ${bits} z ${z}`).toBe(expected);
      expectExactWeights(out.bytes, model, p);
      const s = logitStats(await ortLogits(out.bytes, pixels, shape), vitForwardQuantCpu(model, p, pixels, IMAGES), 10);
      expect(s.medianDiff).toBeLessThan(1e-5);
    }
  });

  it('onnxruntime\'s own DequantizeLinear gives the engine\'s weights bit for bit (int8, int4, int32)', async () => {
    for (const [bits, options] of [[8, { format: 'qdq', opset: 13 }], [4, { format: 'qdq', opset: 21, int4Weights: true }]] as const) {
      const { model, pixels, params, shape } = setup('deit_distilled_op13_fixed', bits);
      const fc2 = params.blocks[1].fc2W;   // one layer forced into int32 (z far out of range)
      const p: ViTQuantParams = { ...params, blocks: params.blocks.map((b, i) => (i === 1 ? { ...b, fc2W: { ...fc2, zero: fc2.zero.map((v, o) => (o === 0 ? 700 : v)) } } : b)) };
      const out = buildQuantizedOnnx(model, p, options);
      expect(new Set(out.weights.map((w) => w.storage))).toEqual(new Set(bits === 8 ? ['int8', 'int32'] : ['int4', 'int32']));
      const m = decodeModel(out.bytes);
      m.graph!.output!.push(...out.weights.map((w) => onnx.ValueInfoProto.create({ name: w.output, type: { tensorType: { elemType: 1 } } })));
      const bytes = onnx.ModelProto.encode(m).finish();
      const res = await ortRun(bytes, pixels, shape, false, out.weights.map((w) => w.output));
      const engine = engineWeights(quantizeModelWeights(model, p));
      for (const w of out.weights) {
        let got = res[w.output].data as Float32Array;
        if (w.axis === 0) { const rows = res[w.output].dims[0]; got = Float32Array.from({ length: got.length }, (_, i) => got[(i % rows) * (got.length / rows) + Math.floor(i / rows)]); }
        expect(bitDiffs(got, engine.get(w.key)!).length, `${w.layer} ${w.storage}`).toBe(0);
      }
    }
  });
});

describe('metadata, summary, errors and the structural checker', () => {
  const { model, params } = setup('deit_distilled_op13_fixed', 4);

  it('metadata names the format, every quantizer site and weight, preprocessing and labels', () => {
    const labelled: ViTModel = { ...model, config: { ...model.config, labels: Array.from({ length: 10 }, (_, i) => `class ${i}`),
      preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 40, source: 'user' } } };
    const bytes = exportQuantizedOnnx(labelled, params, { format: 'qdq', settings: { method: 'minmax', bitsW: 4, bitsA: 4, ablation: {}, tauQkv: 5, tauFc1: 10 }, metadata: { 'run.seed': '7' } });
    const m = decodeModel(bytes), rec = readExportRecords(m)!;
    expect(rec.format).toBe('qdq');
    expect(rec.metadata.get('adfq.quant.bits_w')).toBe('4');
    expect(rec.metadata.get('adfq.quant.method')).toBe('minmax');
    expect(JSON.parse(rec.metadata.get('adfq.quant.settings')!).tauFc1).toBe(10);
    expect(rec.metadata.get('run.seed')).toBe('7');
    expect(rec.metadata.get('adfq.std')).toBe('0.25,0.25,0.25');
    expect(rec.metadata.get('adfq.resize')).toBe('40');
    expect(JSON.parse(rec.metadata.get('adfq.labels')!)[3]).toBe('class 3');
    const sites = rec.sites.map((s) => s.site);
    expect(sites.slice(0, 10)).toEqual(['patch-in', 'blocks.0.qkv-in', 'blocks.0.q', 'blocks.0.k', 'blocks.0.v', 'blocks.0.attn-probs', 'blocks.0.proj-in', 'blocks.0.fc1-in', 'blocks.0.fc2-in', 'blocks.1.qkv-in']);
    expect(sites.slice(-2)).toEqual(['head-in', 'head-in.dist']);
    const produced = new Set(m.graph!.node!.flatMap((n) => n.output ?? []));
    for (const s of rec.sites) expect(produced.has(s.output) && s.output === `quant/${s.site}/output`).toBe(true);
    // Our importer reads the preprocessing and labels back (the graph itself is not importable yet: issue 6 item 2).
    expect(rec.weights.map((w) => w.layer)).toContain('head_dist');
  });

  it('summary: FP32 vs packed vs stored weight bytes', () => {
    const count = [...engineWeights(model).values()].reduce((a, w) => a + w.length, 0);
    const int8 = exportSummary(model, params, { format: 'qdq', opset: 13 });
    const int4 = exportSummary(model, params, { format: 'qdq', opset: 21, int4Weights: true });
    const fake = exportSummary(model, params, { format: 'fake-quant-weights' });
    expect(int8.weightCount).toBe(count);
    expect(int8.fp32WeightBytes).toBe(4 * count);
    expect(int4.storedWeightBytes).toBeLessThan(int8.storedWeightBytes);
    expect(int8.storedWeightBytes).toBeLessThan(fake.storedWeightBytes);
    expect(fake.storedWeightBytes).toBe(4 * count);
    expect(int4.packedWeightBytes).toBeLessThan(int8.storedWeightBytes);
    expect(int4.fileBytes).toBe(exportQuantizedOnnx(model, params, { format: 'qdq', opset: 21, int4Weights: true }).length);
    expect(int4.storage).toEqual({ int4: 4 * model.config.depth + 3 });
  });

  it('refuses bad options and parameters with typed errors', () => {
    expect(() => exportQuantizedOnnx(model, params, { format: 'qdq', opset: 13, int4Weights: true })).toThrow(/opset 21/);
    expect(() => exportQuantizedOnnx(model, params, { format: 'qdq', opset: 15 as 13 })).toThrow(/opsets/);
    expect(() => exportQuantizedOnnx(model, params, { format: 'qdq', metadata: { 'adfq.quant.bits_w': '2' } })).toThrow(/exporter itself/);
    const badTokens = { ...params, blocks: params.blocks.map((b) => ({ ...b, qkvIn: b.qkvIn.kind === 'ppoq' ? { ...b.qkvIn, delta: b.qkvIn.delta.slice(1) } : b.qkvIn })) };
    expect(() => exportQuantizedOnnx(model, badTokens, { format: 'qdq' })).toThrow(/token parameters/);
    expect(() => exportQuantizedOnnx(model, { ...params, blocks: params.blocks.slice(1) }, { format: 'qdq' })).toThrow(/blocks/);
  });

  it('the checker finds custom domains, unknown ops, use before definition, bad data lengths, removed attributes', () => {
    const fresh = () => decodeModel(exportQuantizedOnnx(model, params, { format: 'qdq', opset: 17 })) as unknown as ModelInit;
    expect(checkGraph(fresh() as never)).toEqual([]);
    const custom = fresh();
    custom.graph!.node!.push({ ...node('FusedGelu', ['logits'], ['extra']), domain: 'com.microsoft' });
    custom.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
    expect(checkGraph(custom).join('\n')).toMatch(/custom domain 'com.microsoft'[\s\S]*custom domain/);
    const unknown = fresh();
    unknown.graph!.node!.push(node('Frobnicate', ['logits'], ['extra']));
    expect(checkGraph(unknown).join()).toMatch(/not a known default-domain op/);
    const order = fresh();
    order.graph!.node!.reverse();
    expect(checkGraph(order).join()).toMatch(/before anything produces it/);
    const short = fresh();
    const t = short.graph!.initializer!.find((i) => i.name === 'blocks.0.attn.qkv.bias')!;
    t.rawData = t.rawData!.slice(4);
    expect(checkGraph(short).join()).toMatch(/blocks\.0\.attn\.qkv\.bias' has \d+ bytes/);
    const lowOpset = fresh();
    lowOpset.opsetImport = [{ domain: '', version: 13 }];
    expect(checkGraph(lowOpset).join()).toMatch(/LayerNormalization\) needs opset 17/);
    const removed = fresh();
    removed.opsetImport = [{ domain: '', version: 18 }];
    removed.graph!.node!.push(node('ReduceMean', ['logits'], ['extra'], { axes: { type: 7, ints: [-1] } }));
    expect(checkGraph(removed).join()).toMatch(/'axes' is an input/);
  });
});
