/**
 * Issue 6 item 2 on the CPU: an adfq-studio export imports back as its model (the file's fake-quantized
 * weights, FP32 biases/norms/embeddings, config, preprocessing, labels) and the ViTQuantParams it was made
 * from, for the importer fixtures (timm, DeiT-distilled, Hugging Face, odd sizes) in every format; the CPU
 * twin of QuantViTRunner computes the same logits on both; malformed or inconsistent metadata is an
 * ExportMetadataError naming what is wrong; `adfq inspect` shows the quantization.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildQuantizedOnnx, exportQuantizedOnnx, type ExportOptions } from '../src/engine/export/export-onnx.ts';
import { ExportMetadataError } from '../src/engine/onnx/export-metadata.ts';
import { importViT, importVitOrExport } from '../src/engine/onnx/import-vit.ts';
import { decodeModel, onnx, type ModelProto } from '../src/engine/onnx/proto.ts';
import { quantizeModelWeights } from '../src/engine/quant/apply-cpu.ts';
import { minMaxParams } from '../src/engine/quant/min-max.ts';
import type { ViTQuantParams } from '../src/engine/quant/params.ts';
import { DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/settings.ts';
import { vitForwardQuantCpu } from '../src/engine/reference/vit-forward-quant.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { bitDiffs, engineWeights } from './export-helpers.ts';
import { loadFixture } from './fixtures/onnx/io.ts';
import { randomImages } from './quant-model-helpers.ts';

const FIXTURES = ['timm_op17_tanh_dynamic', 'deit_distilled_op13_fixed', 'hf_op17_fixed', 'odd_p5_c4_op17_tanhpow', 'odd_p6_c1_op13_erfmul'];
const FORMATS: ExportOptions[] = [{ format: 'qdq', opset: 13 }, { format: 'qdq', opset: 21, int4Weights: true }, { format: 'fake-quant-weights', opset: 17 }];
const IMAGES = 4;

function setup(name: string, bits: number, ablation = {}) {
  const model = importViT(loadFixture(name).bytes), c = model.config;
  const pixels = randomImages(IMAGES, c.inChannels * c.imageSize ** 2, 5);
  return { model, pixels, params: minMaxParams(model, pixels, IMAGES, { bitsW: bits, bitsA: bits, ablation }) };
}

/** Every non-quantized tensor of b equals a's bit for bit; every quantized one equals a's fake-quantized weight. */
function expectSameModel(imported: ViTModel, model: ViTModel, params: ViTQuantParams): void {
  const q = engineWeights(quantizeModelWeights(model, params)), got = engineWeights(imported);
  for (const [key, w] of q) expect(bitDiffs(got.get(key)!, w).length, key).toBe(0);
  const a = imported.weights, b = model.weights;
  for (const k of ['patchB', 'prefix', 'posEmbed', 'normGamma', 'normBeta', 'headB'] as const) expect(bitDiffs(a[k], b[k]).length, k).toBe(0);
  if (b.headDistB) expect(bitDiffs(a.headDistB!, b.headDistB).length).toBe(0);
  a.blocks.forEach((blk, i) => {
    for (const k of ['ln1Gamma', 'ln1Beta', 'qkvB', 'projB', 'ln2Gamma', 'ln2Beta', 'fc1B', 'fc2B'] as const) expect(bitDiffs(blk[k], b.blocks[i][k]).length, `${i} ${k}`).toBe(0);
  });
  const { fixedBatch, inputName, outputName, ...config } = model.config;
  expect(imported.config).toMatchObject(config);
}

const withoutRounding = ({ rounding, ...p }: ViTQuantParams) => p;

describe.each(FIXTURES)('round trip of %s', (name) => {
  it.each(FORMATS)('$format opset $opset: the same model, the same params, the same CPU-twin logits', ({ ...options }) => {
    const { model, pixels, params } = setup(name, 4);
    const bytes = exportQuantizedOnnx(model, params, { ...options, settings: { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' } });
    const { model: back, quant } = importVitOrExport(bytes);
    expect(quant).not.toBeNull();
    expect(quant!.params).toEqual(params);
    expect(quant!.ambiguousColumns).toBe(0);
    expect(quant!.weightQuantizers).toBe('metadata');
    expect(quant!).toMatchObject({ format: options.format, opset: options.opset, bitsW: 4, bitsA: 4, method: 'minmax' });
    // Without Δ/z in the metadata (files of export version 1 before they were added): recovered from the codes or values.
    const bare = edit(bytes, (m) => setMeta(m, 'adfq.quant.weights',
      JSON.stringify(JSON.parse(meta(m, 'adfq.quant.weights')).map(({ delta, zero, ...w }: { delta: number[]; zero: number[] }) => w))));
    const recovered = importVitOrExport(bare).quant!;
    expect(recovered.weightQuantizers).toBe(options.format === 'qdq' ? 'codes' : 'values');
    expect(recovered.params).toEqual(params);
    expectSameModel(back, model, params);
    expect(bitDiffs(vitForwardQuantCpu(back, quant!.params, pixels, IMAGES), vitForwardQuantCpu(model, params, pixels, IMAGES)).length).toBe(0);
    // importViT on an export gives its model (the fake-quantized weights).
    expect(bitDiffs(importViT(bytes).weights.headW, back.weights.headW).length).toBe(0);
  });
});

describe('quantizer variants and weight storage', () => {
  it('8 bits (uint8 QDQ activations), ablations and base-2 log/SLQ come back exactly', () => {
    for (const [bits, ablation, base] of [[8, {}, 'sqrt2'], [4, { ppoqQkv: true, ppoqFc1: true, slq: true, logProbs: true }, 'sqrt2'], [6, {}, '2']] as const) {
      const { model, pixels, params: p0 } = setup('deit_distilled_op13_fixed', bits, ablation);
      const params: ViTQuantParams = { ...p0, blocks: p0.blocks.map((b) => ({ ...b,
        probs: b.probs.kind === 'log' ? { ...b.probs, base } : b.probs, fc2In: b.fc2In.kind === 'slq' ? { ...b.fc2In, base } : b.fc2In })) };
      for (const options of FORMATS) {
        const out = buildQuantizedOnnx(model, params, options);
        if (bits === 8 && options.format === 'qdq') expect(out.sites.some((s) => s.form === 'qdq-uint8')).toBe(true);
        const { model: back, quant } = importVitOrExport(out.bytes);
        expect(quant!.params, `W${bits} ${options.format}`).toEqual(params);
        expect(bitDiffs(vitForwardQuantCpu(back, quant!.params, pixels, IMAGES), vitForwardQuantCpu(model, params, pixels, IMAGES)).length).toBe(0);
      }
    }
  });

  it('zero points outside the container: shifted int4/int8 codes and int32 still give the exact weights', () => {
    for (const [bits, z, int4] of [[4, 12, true], [4, -20, true], [8, -200, false], [8, 600, false], [6, -60, false]] as const) {
      const { model, params } = setup('timm_op17_tanh_dynamic', bits);
      const fc1 = params.blocks[0].fc1W;
      const p: ViTQuantParams = { ...params, blocks: params.blocks.map((b, i) => (i === 0 ? { ...b, fc1W: { ...fc1, zero: fc1.zero.map((v, o) => (o === 1 ? z : v)) } } : b)) };
      const out = buildQuantizedOnnx(model, p, { format: 'qdq', opset: 21, int4Weights: int4 });
      const { model: back, quant } = importVitOrExport(out.bytes);
      expectSameModel(back, model, p);
      // The codes pin every other column's z down; this one's only when its codes reach the container's bound.
      const zBack = quant!.params.blocks[0].fc1W.zero;
      expect(quant!.ambiguousColumns, `b ${bits} z ${z}`).toBeLessThanOrEqual(1);
      if (quant!.ambiguousColumns === 0) expect(zBack[1]).toBe(z);
      expect(withoutRounding({ ...quant!.params, blocks: [] })).toEqual({ ...p, blocks: [] });
      expect(bitDiffs(engineWeights(quantizeModelWeights(back, quant!.params)).get('blocks.0.fc1')!, engineWeights(quantizeModelWeights(model, p)).get('blocks.0.fc1')!).length).toBe(0);
    }
  });

  it('Δ and z recorded in the weight metadata are used as they are, and must agree with the DequantizeLinear scale', () => {
    const { model, params } = setup('deit_distilled_op13_fixed', 4);
    const layers = (m: ModelProto) => JSON.parse(meta(m, 'adfq.quant.weights'));
    const quantOf = (key: string) => (key === 'patch' ? params.patchW : key === 'head' ? params.headW : key === 'headDist' ? params.headDistW!
      : params.blocks[Number(key.split('.')[1])][`${key.split('.')[2]}W` as 'qkvW']);
    for (const options of FORMATS) {
      const bytes = edit(exportQuantizedOnnx(model, params, options), (m) => setMeta(m, 'adfq.quant.weights',
        JSON.stringify(layers(m).map((w: { key: string }) => ({ ...w, ...quantOf(w.key), kind: undefined })))));
      const { quant } = importVitOrExport(bytes);
      expect(quant!.weightQuantizers).toBe('metadata');
      expect(quant!.params).toEqual(params);
    }
    const wrong = edit(exportQuantizedOnnx(model, params, { format: 'qdq' }), (m) => setMeta(m, 'adfq.quant.weights',
      JSON.stringify(layers(m).map((w: { key: string }) => ({ ...w, delta: quantOf(w.key).delta.map((d) => 2 * d), zero: quantOf(w.key).zero })))));
    expect(() => importVitOrExport(wrong)).toThrow(/differ from its DequantizeLinear scale/);
  });
});

// ---- Malformed exports ----
function meta(m: ModelProto, key: string): string { return m.metadataProps!.find((p) => p.key === key)!.value!; }
function setMeta(m: ModelProto, key: string, value: string | null): void {
  const props = m.metadataProps!.filter((p) => p.key !== key);
  if (value !== null) props.push(onnx.StringStringEntryProto.create({ key, value }));
  m.metadataProps = props;
}
function edit(bytes: Uint8Array, f: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(bytes);
  f(m);
  return onnx.ModelProto.encode(m).finish();
}
const sites = (m: ModelProto) => JSON.parse(meta(m, 'adfq.quant.sites')) as { site: string; quantizer: string; bits: number; output: string; tensors: Record<string, string> }[];
const setSites = (m: ModelProto, f: (s: ReturnType<typeof sites>) => unknown) => setMeta(m, 'adfq.quant.sites', JSON.stringify(f(sites(m))));
const model = (m: ModelProto) => JSON.parse(meta(m, 'adfq.model'));

describe('malformed export metadata is an ExportMetadataError with a sentence naming the problem', () => {
  const { model: vit, params } = setup('timm_op17_tanh_dynamic', 4);
  const qdq = exportQuantizedOnnx(vit, params, { format: 'qdq', opset: 17, settings: { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' } });
  const fake = exportQuantizedOnnx(vit, params, { format: 'fake-quant-weights', opset: 13 });

  const CASES: [string, Uint8Array, (m: ModelProto) => void, RegExp][] = [
    ['a newer format version', qdq, (m) => setMeta(m, 'adfq.export.version', '2'), /format version is '2'.*reads version 1/],
    ['an unknown format', qdq, (m) => setMeta(m, 'adfq.export.format', 'int-only'), /'adfq.export.format' is 'int-only'/],
    ['sites that are not JSON', qdq, (m) => setMeta(m, 'adfq.quant.sites', '[{"site": '), /'adfq.quant.sites' is not valid JSON/],
    ['no model shape', qdq, (m) => setMeta(m, 'adfq.model', null), /has no 'adfq.model'/],
    ['a bit width out of range', qdq, (m) => setMeta(m, 'adfq.quant.bits_w', '12'), /'adfq.quant.bits_w' is '12'/],
    ['settings that disagree with the bits', qdq, (m) => setMeta(m, 'adfq.quant.bits_a', '6'), /settings.*disagrees/],
    ['a missing site', qdq, (m) => setSites(m, (s) => s.filter((r) => r.site !== 'blocks.1.v')), /missing blocks\.1\.v/],
    ['a site listed twice', qdq, (m) => setSites(m, (s) => [...s, s[3]]), /lists the quantizer site blocks\.0\.k twice/],
    ['a quantizer that cannot sit there', qdq, (m) => setSites(m, (s) => s.map((r) => (r.site === 'blocks.0.q' ? { ...r, quantizer: 'ppoq' } : r))), /'ppoq' quantizer at blocks\.0\.q/],
    ['a quantizer type the graph does not have', qdq, (m) => setSites(m, (s) => s.map((r) => (r.site === 'blocks.0.fc1-in' ? { ...r, quantizer: 'uniform' } : r))), /scale of site blocks\.0\.fc1-in holds \d+ values; 1 are needed/],
    ['a tensor the file lacks', qdq, (m) => setSites(m, (s) => s.map((r) => (r.site === 'head-in' ? { ...r, tensors: { ...r.tensors, scale: 'nowhere' } } : r))), /Site head-in names the tensor 'nowhere'/],
    ['a site output wired elsewhere', qdq, (m) => setSites(m, (s) => s.map((r) => (r.site === 'blocks.1.proj-in' ? { ...r, output: 'blocks.0.output' } : r))), /output 'blocks.0.output' is not produced by its quantizer/],
    ['bits the graph does not compute with', qdq, (m) => {
      setMeta(m, 'adfq.quant.settings', null); setMeta(m, 'adfq.quant.bits_a', '6'); setSites(m, (s) => s.map((r) => ({ ...r, bits: 6 })));
    }, /clips its codes at 15; 6-bit activations clip at 63/],
    ['a record bit width unlike bits_a', qdq, (m) => setSites(m, (s) => s.map((r) => (r.site === 'blocks.0.k' ? { ...r, bits: 8 } : r))), /site blocks\.0\.k says 8 bits/],
    ['a log levels table for other bits', qdq, (m) => {
      const t = m.graph!.initializer!.find((i) => i.name === 'quant/blocks.0.attn-probs/levels')!;
      const v = new Float32Array(Uint8Array.from(t.rawData!).buffer); v[1] *= 1.5; t.rawData = new Uint8Array(v.buffer);
    }, /levels table of site blocks\.0\.attn-probs/],
    ['a model shape unlike the graph', qdq, (m) => setMeta(m, 'adfq.model', JSON.stringify({ ...model(m), mlpDim: model(m).mlpDim * 2 })), /mlp\.fc1 is \d+×\d+; the model in its metadata needs/],
    ['a head count unlike the graph', qdq, (m) => setMeta(m, 'adfq.model', JSON.stringify({ ...model(m), heads: model(m).heads * 2 })), /attention splits q, k, v as/],
    ['an inconsistent model shape', qdq, (m) => setMeta(m, 'adfq.model', JSON.stringify({ ...model(m), tokens: 7 })), /'adfq.model' is inconsistent/],
    ['a missing weight layer', qdq, (m) => setMeta(m, 'adfq.quant.weights', JSON.stringify(JSON.parse(meta(m, 'adfq.quant.weights')).slice(1))), /lacks patch/],
    ['a weight stored unlike the format', fake, (m) => setMeta(m, 'adfq.quant.weights', meta(m, 'adfq.quant.weights').replace('"float32"', '"int8"')), /stores patch_embed.proj as 'int8'/],
    ['a weight off its quantizer grid', fake, (m) => {
      const t = m.graph!.initializer!.find((i) => i.name === 'blocks.0.mlp.fc2.weight')!;
      const v = new Float32Array(Uint8Array.from(t.rawData!).buffer); v[5] = v[5] * 1.37 + 1e-3; t.rawData = new Uint8Array(v.buffer);
    }, /blocks\.0\.mlp\.fc2: its values are not on a 4-bit uniform grid|not a value of its 4-bit quantizer/],
  ];

  it.each(CASES)('%s', (_, bytes, f, message) => {
    const bad = edit(bytes, f);
    let error: unknown;
    try { importVitOrExport(bad); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ExportMetadataError);
    expect((error as ExportMetadataError).code).toBe('export-metadata');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/export the model again/);
  });

  it('plain models are unaffected: no quantization, the structural importer as before', () => {
    const r = importVitOrExport(loadFixture('hf_op17_fixed').bytes);
    expect(r.quant).toBeNull();
    expect(r.model.config.style).toBe('huggingface');
  });
});

describe('adfq inspect on an export', () => {
  it('prints the quantization, and --json has a quantization field', () => {
    const { model, params } = setup('deit_distilled_op13_fixed', 4);
    const path = join(mkdtempSync(join(tmpdir(), 'adfq-rt-')), 'deit.q.onnx');
    writeFileSync(path, exportQuantizedOnnx(model, params, { format: 'qdq', opset: 21, int4Weights: true, settings: { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' } }));
    const bin = new URL('../bin/adfq.mjs', import.meta.url).pathname;
    const text = spawnSync(process.execPath, [bin, 'inspect', path], { encoding: 'utf8' });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/quantized +W4A4 minmax: adfq-studio export, qdq opset 21/);
    const r = spawnSync(process.execPath, [bin, 'inspect', path, '--json'], { encoding: 'utf8' });
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j).toMatchObject({ depth: model.config.depth, numClasses: 10, prefixTokens: 2 });
    expect(j.quantization).toMatchObject({ label: 'W4A4 minmax', format: 'qdq', opset: 21, bitsW: 4, bitsA: 4, method: 'minmax',
      sites: 2 + 8 * model.config.depth + 1, weightStorage: { int4: 4 * model.config.depth + 3 }, adaroundLayers: [], weightQuantizers: 'metadata' });
    expect(j.quantization.quantizers).toEqual({ uniform: 3 + 4 * model.config.depth, ppoq: 2 * model.config.depth, log: model.config.depth, slq: model.config.depth });
  });
});
