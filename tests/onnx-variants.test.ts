/**
 * Equivalent encodings of the same model must import to the same weights: weights in Constant nodes,
 * unaligned raw_data, float_data / double / float16 storage, int64_data (64-bit fields), a single Gelu
 * op (opset 20), a non-standard attention scale (folded into q). Also the writer and the metadata warnings.
 */
import { describe, expect, it } from 'vitest';
import { importViT } from '../src/engine/onnx/import-vit';
import { attr, buildModel, constantNode, encodeModel, floatTensor, node, tensorInfo } from '../src/engine/onnx/onnx-writer';
import { decodeModel, int64ToNumber, type ModelProto, type NodeProto, type TensorProto } from '../src/engine/onnx/proto';
import { tensorFloats } from '../src/engine/onnx/tensor';
import { vitForwardCpu } from '../src/engine/reference/vit-forward';
import type { ViTModel } from '../src/engine/vit/description';
import { allClose, randomArray } from './helpers/all-close';
import { loadFixture, runOrt } from './fixtures/onnx/io';

const fx = loadFixture('timm_op13_erf_fixed');
const reference = importViT(fx.bytes);
const fresh = (): ModelProto => decodeModel(fx.bytes);
const floatInits = (m: ModelProto) => m.graph!.initializer!.filter((t) => t.dataType === 1);

function expectSameWeights(a: ViTModel, b: ViTModel, tol = 0): void {
  expect(a.config).toEqual(b.config);
  const flat = (m: ViTModel) => [m.weights.patchW, m.weights.prefix, m.weights.posEmbed, m.weights.headW, ...m.weights.blocks.flatMap((bl) => Object.values(bl))];
  const [fa, fb] = [flat(a), flat(b)];
  fa.forEach((t, i) => (tol === 0 ? expect(t).toEqual(fb[i]) : allClose(t, fb[i], { atol: tol, rtol: tol }, `weight ${i}`)));
}

describe('equivalent encodings import identically', () => {
  it('weights in Constant nodes instead of initializers', async () => {
    const m = fresh();
    m.graph!.node = [...m.graph!.initializer!.map(constantNode), ...m.graph!.node!];
    m.graph!.initializer = [];
    const bytes = encodeModel(m);
    const model = importViT(bytes);
    expectSameWeights(model, reference);
    expect(model.sources).toEqual(reference.sources);
    allClose(vitForwardCpu(model, fx.input, 2), await runOrt(bytes, 'pixel_values', fx.input, fx.inputShape), { atol: 1e-4, rtol: 1e-4 });
  });

  it('raw_data at unaligned offsets in the file buffer', () => {
    // TensorProto.name (field 8) is written before raw_data (field 9): lengthening names shifts the data.
    const m = fresh();
    const renames = new Map(m.graph!.initializer!.map((t, i) => [t.name!, `${t.name}${'_'.repeat(i % 4)}`]));
    for (const t of m.graph!.initializer!) t.name = renames.get(t.name!)!;
    for (const n of m.graph!.node!) n.input = n.input!.map((i) => renames.get(i) ?? i);
    const bytes = encodeModel(m);
    const offsets = floatInits(decodeModel(bytes)).map((t) => t.rawData!.byteOffset % 4);
    expect(offsets.some((o) => o !== 0)).toBe(true);
    expectSameWeights(importViT(bytes), reference);
  });

  it('float_data, double and float16 storage', () => {
    const convert = (f: (t: TensorProto, data: Float32Array) => void) => {
      const m = fresh();
      for (const t of floatInits(m)) { const data = tensorFloats(t, t.name!).data; t.rawData = new Uint8Array(0); f(t, data); }
      return importViT(encodeModel(m));
    };
    expectSameWeights(convert((t, d) => { t.floatData = Array.from(d); }), reference);
    expectSameWeights(convert((t, d) => { t.dataType = 11; t.doubleData = Array.from(d); }), reference);
    expectSameWeights(convert((t, d) => {
      t.dataType = 11;
      const raw = new DataView(new ArrayBuffer(d.length * 8));
      d.forEach((v, i) => raw.setFloat64(8 * i, v, true));
      t.rawData = new Uint8Array(raw.buffer);
    }), reference);
    // float16 in int32_data (as ONNX stores it): exact for values representable in half precision.
    const toHalf = (v: number) => { // normal halves only: values below 2^-14 flush to zero (within the tolerance)
      const u = new Uint32Array(new Float32Array([v]).buffer)[0], sign = (u >> 16) & 0x8000, e = ((u >> 23) & 0xff) - 112;
      return e <= 0 ? sign : sign | (e << 10) | ((u >> 13) & 0x3ff);
    };
    const half = convert((t, d) => { t.dataType = 10; t.int32Data = Array.from(d, toHalf); });
    expectSameWeights(half, reference, 2e-3);
  });

  it('int64 constants in int64_data (protobufjs Long values) and int64ToNumber', () => {
    const m = fresh();
    const int64s: TensorProto[] = [...m.graph!.initializer!, ...m.graph!.node!.flatMap((n) => (n.attribute ?? []).map((a) => a.t).filter((t): t is TensorProto => !!t))].filter((t) => t.dataType === 7);
    expect(int64s.length).toBeGreaterThan(0);
    for (const t of int64s) {
      const view = new DataView(t.rawData!.buffer, t.rawData!.byteOffset, t.rawData!.byteLength);
      t.int64Data = Array.from({ length: t.rawData!.length / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
      t.rawData = new Uint8Array(0);
    }
    const bytes = encodeModel(m);
    const decoded = decodeModel(bytes).graph!.node!.flatMap((n) => n.attribute ?? []).find((a) => a.t?.int64Data?.length)!;
    expect(typeof decoded.t!.int64Data![0]).toBe('object'); // Long, as protobufjs gives with `long` installed
    expectSameWeights(importViT(bytes), reference);

    expect(int64ToNumber(5)).toBe(5);
    expect(int64ToNumber({ low: -1, high: -1 })).toBe(-1);
    expect(int64ToNumber({ low: 0, high: 1 })).toBe(2 ** 32);
    expect(int64ToNumber({ low: -1, high: -1, unsigned: true })).toBeNaN();
    expect(int64ToNumber({ low: 0, high: 0x200000 })).toBeNaN(); // 2^53
  });
});

/** Replaces each exported erf GELU (Div √2 → Erf → Add 1 → Mul x → Mul 0.5) by one Gelu node. */
function withGeluOps(m: ModelProto, approximate: 'none' | 'tanh'): void {
  const nodes = m.graph!.node!;
  const byInput = (t: string) => nodes.find((n) => n.input!.includes(t))!;
  const byOutput = (t: string) => nodes.find((n) => n.output!.includes(t))!;
  const drop = new Set<NodeProto>(), add: NodeProto[] = [];
  for (const erf of nodes.filter((n) => n.opType === 'Erf')) {
    const div = byOutput(erf.input![0]), plus = byInput(erf.output![0]), mul = byInput(plus.output![0]), half = byInput(mul.output![0]);
    [div, erf, plus, mul, half].forEach((n) => drop.add(n));
    add.push(node('Gelu', [div.input![0]], [half.output![0]], { approximate: attr.string(approximate) }, `gelu_${add.length}`));
  }
  const firstDropped = nodes.findIndex((n) => drop.has(n));
  m.graph!.node = nodes.filter((n) => !drop.has(n));
  m.graph!.node.splice(firstDropped, 0, ...add); // keep topological order: each Gelu goes where its first replaced node was
  m.opsetImport![0].version = 20;
}

describe('other spellings', () => {
  const deit = loadFixture('deit_distilled_op17_dynamic');
  for (const approximate of ['none', 'tanh'] as const) {
    it(`a single Gelu op (opset 20, approximate=${approximate})`, async () => {
      const m = decodeModel(deit.bytes);
      withGeluOps(m, approximate);
      const bytes = encodeModel(m);
      const model = importViT(bytes);
      expect(model.config.gelu).toBe(approximate === 'none' ? 'erf' : 'tanh');
      const ort = await runOrt(bytes, 'pixel_values', deit.input, deit.inputShape);
      allClose(vitForwardCpu(model, deit.input, 2), ort, { atol: 1e-4, rtol: 1e-4 }, 'Gelu op');
      if (approximate === 'none') allClose(ort, deit.logits, { atol: 1e-4, rtol: 1e-4 }, 'rewritten model vs torch');
    });
  }

  it('an attention scale other than 1/√headDim is folded into q', async () => {
    const m = fresh();
    const mul = m.graph!.node!.find((n) => n.name === '/blocks.0/attn/Mul')!;
    const scale = m.graph!.node!.find((n) => n.output![0] === mul.input![1])!;
    scale.attribute![0].t = floatTensor('', [], new Float32Array([0.9]));
    const bytes = encodeModel(m);
    const model = importViT(bytes);
    const ort = await runOrt(bytes, 'pixel_values', fx.input, fx.inputShape);
    allClose(vitForwardCpu(model, fx.input, 2), ort, { atol: 1e-4, rtol: 1e-4 }, 'scale 0.9');
    expect(compareArrays(model.weights.blocks[1].qkvW, reference.weights.blocks[1].qkvW)).toBe(true);
    expect(compareArrays(model.weights.blocks[0].qkvW, reference.weights.blocks[0].qkvW)).toBe(false);
  });

  it('class-token pooling as Slice + Squeeze instead of Gather', async () => {
    const m = fresh();
    const nodes = m.graph!.node!;
    const gather = nodes.find((n) => n.opType === 'Gather' && n.input![0] === '/norm/Add_1_output_0')!;
    const ints = (name: string, v: number[]) => constantNode({ name, dims: [v.length], dataType: 7, int64Data: v });
    nodes.splice(nodes.indexOf(gather), 1, ints('s0', [0]), ints('s1', [1]), ints('ax', [1]),
      node('Slice', [gather.input![0], 's0', 's1', 'ax'], ['token0']), node('Squeeze', ['token0', 'ax'], [gather.output![0]]));
    const bytes = encodeModel(m);
    const model = importViT(bytes);
    allClose(vitForwardCpu(model, fx.input, 2), await runOrt(bytes, 'pixel_values', fx.input, fx.inputShape), { atol: 1e-4, rtol: 1e-4 });
    allClose(vitForwardCpu(model, fx.input, 2), fx.logits, { atol: 1e-4, rtol: 1e-4 });
  });

  it('metadata that does not fit is ignored with a warning', () => {
    const m = fresh();
    m.metadataProps = [{ key: 'adfq.labels', value: '["a","b"]' }, { key: 'mean', value: '0.1,0.2' }, { key: 'std', value: '[0.3]' }];
    const warnings: string[] = [];
    const model = importViT(encodeModel(m), { onWarning: (w) => warnings.push(w) });
    expect(model.config.labels).toBeNull();
    expect(model.config.preprocessing).toBeNull();
    expect(warnings.join('\n')).toMatch(/adfq\.labels[\s\S]*mean/);
  });
});

function compareArrays(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('onnx-writer', () => {
  it('builds a model onnxruntime runs (Gemm with transB, then Relu)', async () => {
    const w = randomArray(4 * 3, 7), b = randomArray(4, 8), x = randomArray(2 * 3, 9);
    const bytes = encodeModel(buildModel({
      opset: 17,
      inputs: [tensorInfo('x', ['batch', 3])],
      outputs: [tensorInfo('y', ['batch', 4])],
      initializers: [floatTensor('w', [4, 3], w)],
      nodes: [constantNode(floatTensor('b', [4], b)), node('Gemm', ['x', 'w', 'b'], ['h'], { transB: attr.int(1) }), node('Relu', ['h'], ['y'])],
      metadata: { 'adfq.note': 'writer test' },
    }));
    const y = await runOrt(bytes, 'x', x, [2, 3]);
    const expected = Array.from({ length: 8 }, (_, k) => {
      const [r, c] = [Math.floor(k / 4), k % 4];
      return Math.max(0, b[c] + [0, 1, 2].reduce((s, j) => s + x[r * 3 + j] * w[c * 3 + j], 0));
    });
    allClose(y, expected, { atol: 1e-6, rtol: 1e-6 });
    expect(decodeModel(bytes).metadataProps[0]).toMatchObject({ key: 'adfq.note', value: 'writer test' });
  });
});
