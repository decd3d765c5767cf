/**
 * Issue 7, the importer's limits one by one, each with the smallest hostile file that breaks it: deep
 * nesting, millions of messages or int64 values (decode-guard.ts, before protobufjs builds them), huge
 * shapes without data (before allocating), external data, cycles and duplicate producers, fan-out, and
 * the bugs the fuzzer found (tools/fuzz/), each as a regression test.
 */
import { describe, expect, it } from 'vitest';
import { AdfqError, InvalidModelFileError, ModelWeightError, UnsupportedModelError } from '../src/engine/errors';
import { tensorSmallInts } from '../src/engine/export/read-export';
import { importVitOrExport, importViT } from '../src/engine/onnx/import-vit';
import { encodeModel, node } from '../src/engine/onnx/onnx-writer';
import { decodeModel, type ModelProto } from '../src/engine/onnx/proto';
import { tensorFloats } from '../src/engine/onnx/tensor';
import { nestedPayload } from '../tools/fuzz/mutate-bytes';
import { loadSeedBytes } from '../tools/fuzz/seeds';
import { concat, intField, lenField, splice, walk } from '../tools/fuzz/wire';
import { loadFixture } from './fixtures/onnx/io';

const timmBytes = loadFixture('timm_op13_erf_fixed').bytes;
const fresh = (bytes = timmBytes): ModelProto => decodeModel(bytes);

/** The typed error an import throws, checked to come fast and without a large allocation. */
function rejection(bytes: Uint8Array): AdfqError {
  const mem = process.memoryUsage().arrayBuffers, t0 = performance.now();
  let error: unknown = null;
  try { importVitOrExport(bytes); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(AdfqError);
  expect(performance.now() - t0).toBeLessThan(5000);
  expect(process.memoryUsage().arrayBuffers - mem).toBeLessThan(64 * 2 ** 20);
  return error as AdfqError;
}

/** A bare model (IR 8, opset 13) whose graph holds `graph` bytes. */
const bareModel = (graph: Uint8Array) => concat([intField(1, 8), lenField(8, intField(2, 13)), lenField(7, graph)]);

describe('decoding limits (before protobufjs allocates)', () => {
  it('subgraphs or types nested 100,000 deep: a typed error, not a stack overflow', () => {
    const fields = walk(timmBytes), graph = fields.findIndex((f) => f.parentType === 'Model' && f.field === 7);
    for (const kind of ['graph', 'type'] as const) {
      const p = nestedPayload(kind, 100_000);
      const e = rejection(splice(timmBytes, fields, graph, fields[graph].end, 0, lenField(p.field, p.bytes)));
      expect(e).toBeInstanceOf(UnsupportedModelError);
      expect(e.message).toMatch(/nests messages more than 32 levels/);
    }
  });

  it('protobuf groups of an unknown field opened 1,000,000 deep (protobufjs skips them recursively)', () => {
    const groups = Uint8Array.from({ length: 2_000_000 }, (_, i) => (i % 2 ? 0x06 : 0x9b)); // field 99, start group
    expect(rejection(bareModel(groups))).toBeInstanceOf(InvalidModelFileError);
  });

  it('1.1 million empty nodes (2 bytes each)', () => {
    const nodes = new Uint8Array(2_200_000);
    for (let i = 0; i < nodes.length; i += 2) nodes[i] = 0x0a;
    expect(rejection(bareModel(nodes)).message).toMatch(/more than 1,000,000 protobuf messages/);
  });

  it('4.2 million packed int64 values (one byte each, a Long object each once decoded)', () => {
    const tensor = concat([intField(2, 7), lenField(7, new Uint8Array(4_200_000).fill(1))]);
    const e = rejection(bareModel(lenField(5, tensor)));
    expect(e).toBeInstanceOf(ModelWeightError);
    expect(e.message).toMatch(/int64 values, strings and byte fields/);
  });
});

describe('tensors: shapes against the data present, external data', () => {
  it('2^28 elements claimed, no data: refused before allocating (float and 8-bit decoders)', () => {
    const mem = process.memoryUsage().arrayBuffers;
    expect(() => tensorFloats({ dataType: 1, dims: [2 ** 14, 2 ** 14], floatData: [1] }, 'w')).toThrow(/has 1 stored values but its shape needs 268435456/);
    expect(() => tensorSmallInts({ dataType: 3, dims: [2 ** 28] }, 'zp')).toThrow(ModelWeightError);
    expect(() => tensorSmallInts({ dataType: 22, dims: [2 ** 28], rawData: new Uint8Array(3) }, 'codes')).toThrow(/needs 134217728/);
    expect(process.memoryUsage().arrayBuffers - mem).toBeLessThan(64 * 2 ** 20);
  });

  it('external data, by location or by external_data entries alone: how to fix it', () => {
    for (const marker of [{ dataLocation: 1 }, { externalData: [{ key: 'location', value: 'model.onnx.data' }] }]) {
      const m = fresh();
      Object.assign(m.graph!.initializer!.find((t) => t.name === 'blocks.1.mlp.fc1.bias')!, marker);
      const e = rejection(encodeModel(m));
      expect(e).toBeInstanceOf(ModelWeightError);
      expect(e.message).toMatch(/'blocks\.1\.mlp\.fc1\.bias' is stored in an external data file.*cannot read.*save_as_external_data=False/);
    }
  });
});

describe('graph structure', () => {
  const rewired = (edit: (m: ModelProto) => void) => { const m = fresh(); edit(m); return rejection(encodeModel(m)); };
  const named = (m: ModelProto, name: string) => m.graph!.node!.find((n) => n.name === name)!;

  it('cycles and duplicate producers are refused before any walk', () => {
    const self = rewired((m) => { const n = named(m, '/blocks.0/attn/Softmax'); n.input![0] = n.output![0]; });
    expect(self.message).toMatch(/cycle: Softmax node '\/blocks.0\/attn\/Softmax'/);
    const pair = rewired((m) => {
      const a = named(m, '/blocks.0/attn/Softmax'), b = named(m, '/blocks.0/attn/MatMul_1');
      a.input![0] = b.output![0];
    });
    expect(pair).toBeInstanceOf(UnsupportedModelError);
    expect(pair.message).toMatch(/cycle/);
    const twice = rewired((m) => { m.graph!.node!.push({ ...named(m, '/blocks.1/Add'), name: 'copy' }); });
    expect(twice.message).toMatch(/written by .* and also by another node/);
  });

  it('Identity self-loops fanning out, and 100,000 nodes reading one tensor, end fast', () => {
    const loops = rewired((m) => { for (let i = 0; i < 30; i++) m.graph!.node!.push(node('Identity', ['/blocks.0/norm1/Add_1_output_0'], ['/blocks.0/norm1/Add_1_output_0'], {}, `loop${i}`)); });
    expect(loops).toBeInstanceOf(UnsupportedModelError);
    const fan = rewired((m) => { for (let i = 0; i < 100_000; i++) m.graph!.node!.push(node('Relu', [m.graph!.input![0].name!], [`r${i}`])); });
    expect(fan).toBeInstanceOf(UnsupportedModelError);
  });
});

describe('bugs the fuzzer found', () => {
  it('a LayerNorm scale computed by the graph (was a TypeError)', () => {
    const m = fresh(loadFixture('hf_op17_fixed').bytes);
    const ln = m.graph!.node!.find((n) => n.opType === 'LayerNormalization')!;
    ln.input![1] = ln.input![0];
    expect(rejection(encodeModel(m)).message).toMatch(/LayerNorm gamma '\/vit\/embeddings\/Add_output_0' is computed by the graph/);
  });

  it('a LayerNorm epsilon of -Infinity (was imported)', () => {
    const m = fresh();
    const eps = m.graph!.initializer!.find((t) => t.name === '/blocks.0/norm1/Constant_1_output_0') ?? null;
    const add = m.graph!.node!.find((n) => n.name === '/blocks.0/norm1/Add')!;
    const c = eps ?? m.graph!.node!.find((n) => n.output![0] === add.input![1])!.attribute![0].t!;
    new DataView(c.rawData!.buffer, c.rawData!.byteOffset).setFloat32(0, -Infinity, true);
    expect(rejection(encodeModel(m)).message).toMatch(/LayerNorm epsilon is -Infinity/);
  });

  it('export metadata JSON nested 50,000 deep (was a stack overflow in an error message)', () => {
    const m = fresh(loadSeedBytes().find((s) => s.name === 'export')!.bytes);
    m.metadataProps!.find((p) => p.key === 'adfq.quant.settings')!.value = `{"bitsW": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    expect(rejection(encodeModel(m)).message).toMatch(/'adfq.quant.settings' nests more than 8 levels/);
  });

  it('the fixtures still import', () => {
    for (const name of ['timm_op13_erf_fixed', 'hf_op17_fixed', 'deit_distilled_op17_dynamic']) expect(importViT(loadFixture(name).bytes).config.depth).toBe(2);
  });
});
