/**
 * Files the importer must refuse with a typed error, quickly and without large allocations: truncated
 * files, other formats, a CNN, missing or mis-shaped weights, unknown ops, absurd dimensions, cycles.
 */
import { describe, expect, it } from 'vitest';
import { InvalidModelFileError, ModelWeightError, UnsupportedModelError } from '../src/engine/errors';
import { importViT } from '../src/engine/onnx/import-vit';
import { encodeModel, node } from '../src/engine/onnx/onnx-writer';
import { decodeModel, type ModelProto, type TensorProto } from '../src/engine/onnx/proto';
import { randomArray } from './helpers/all-close';
import { loadFixture } from './fixtures/onnx/io';

const timmBytes = loadFixture('timm_op13_erf_fixed').bytes;
const timm = (): ModelProto => decodeModel(timmBytes); // a fresh, mutable copy
const initializer = (m: ModelProto, name: string): TensorProto => m.graph!.initializer!.find((t) => t.name === name)!;
const nodeNamed = (m: ModelProto, name: string) => m.graph!.node!.find((n) => n.name === name)!;

/** Expects a typed error; also checks it came fast and allocated little, whatever the file claimed. */
function expectRejected(bytes: Uint8Array, type: new (m: string) => Error, message?: RegExp): void {
  const mem = process.memoryUsage().arrayBuffers, t0 = performance.now();
  let error: unknown = null;
  try { importViT(bytes); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(type);
  if (message) expect((error as Error).message).toMatch(message);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(process.memoryUsage().arrayBuffers - mem).toBeLessThan(64 * 2 ** 20);
}

describe('importViT rejects what it cannot read', () => {
  it('truncated files', () => {
    for (const cut of [1, 2, 7, 64, 1000, timmBytes.length >> 1, timmBytes.length - 100, timmBytes.length - 1]) {
      expectRejected(timmBytes.subarray(0, cut), InvalidModelFileError);
    }
  });

  it('files that are not ONNX: empty, random bytes, PNG, JPEG, text, JSON', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0, 0, 0, 1, 0, 8, 2, 0, 0, 0]);
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xdb]);
    const text = new TextEncoder().encode('This is a README, not a model.\nIt has two lines.\n');
    const json = new TextEncoder().encode(JSON.stringify({ model: 'vit', layers: [1, 2, 3] }));
    for (const bytes of [new Uint8Array(0), png, jpeg, text, json]) expectRejected(bytes, InvalidModelFileError);
    for (let seed = 1; seed <= 20; seed++) {
      const noise = Uint8Array.from(randomArray(4096, seed, 0, 256), (v) => Math.floor(v));
      expectRejected(noise, InvalidModelFileError);
    }
  });

  it('a CNN, naming its first Conv', () => {
    expectRejected(loadFixture('cnn_op13').bytes, UnsupportedModelError, /CNN.*\/conv1\/Conv/);
  });

  it('a missing weight, naming it', () => {
    const m = timm();
    m.graph!.initializer = m.graph!.initializer!.filter((t) => t.name !== 'blocks.1.mlp.fc1.bias');
    expectRejected(encodeModel(m), ModelWeightError, /blocks\.1\.mlp\.fc1\.bias/);
  });

  it('mis-shaped weights, naming them', () => {
    const m = timm();
    const gamma = initializer(m, 'blocks.0.norm2.weight');
    gamma.dims = [16];
    gamma.rawData = gamma.rawData!.slice(0, 64);
    expectRejected(encodeModel(m), ModelWeightError, /blocks\.0\.norm2\.weight/);
    const m2 = timm();
    initializer(m2, 'head.weight').dims = [20, 16];
    expectRejected(encodeModel(m2), ModelWeightError, /head\.weight/);
  });

  it('an unknown op inside a block, naming the node', () => {
    const m = timm();
    const softmax = nodeNamed(m, '/blocks.1/attn/Softmax');
    softmax.opType = 'Sigmoid';
    expectRejected(encodeModel(m), UnsupportedModelError, /Sigmoid node '\/blocks\.1\/attn\/Softmax'/);
    // A LayerScale-like Mul between the MLP and its residual Add.
    const m2 = timm();
    const add = m2.graph!.node!.find((n) => n.opType === 'Add' && n.input!.includes('/blocks.0/mlp/fc2/Add_output_0'))!;
    add.input = add.input!.map((i) => (i === '/blocks.0/mlp/fc2/Add_output_0' ? 'scaled' : i));
    m2.graph!.node!.push(node('Mul', ['/blocks.0/mlp/fc2/Add_output_0', 'blocks.0.norm2.weight'], ['scaled'], {}, 'layer_scale_mul'));
    expectRejected(encodeModel(m2), UnsupportedModelError, /layer_scale_mul/);
  });

  it('absurd dimensions, before allocating', () => {
    const cases: [string, (t: TensorProto) => void][] = [
      ['dims of 1e12', (t) => { t.dims = [1e12]; }],
      ['negative dims', (t) => { t.dims = [-1, 17, 32]; }],
      ['overflowing product', (t) => { t.dims = [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1]; }],
      ['a dim beyond 2^53 (64-bit field)', (t) => { t.dims = [{ low: 0, high: 0x40000000, unsigned: false } as never, 17, 32]; }],
      ['rank 9', (t) => { t.dims = [1, 1, 1, 1, 1, 1, 1, 17, 32]; }],
      ['raw_data shorter than the shape', (t) => { t.rawData = t.rawData!.slice(0, 1000); }],
      ['raw_data longer than the shape', (t) => { t.dims = [1, 16, 32]; }],
      ['float_data shorter than the shape', (t) => { t.rawData = new Uint8Array(0); t.floatData = [1, 2, 3]; }],
    ];
    for (const [what, corrupt] of cases) {
      const m = timm();
      corrupt(initializer(m, 'pos_embed'));
      try { expectRejected(encodeModel(m), ModelWeightError, /pos_embed/); } catch (e) { throw new Error(`${what}: ${(e as Error).message}`); }
    }
  });

  it('external data and non-float weights', () => {
    const m = timm();
    Object.assign(initializer(m, 'cls_token'), { dataLocation: 1, rawData: new Uint8Array(0) });
    expectRejected(encodeModel(m), ModelWeightError, /cls_token.*external/);
    const m2 = timm();
    initializer(m2, 'cls_token').dataType = 3; // int8
    expectRejected(encodeModel(m2), ModelWeightError, /cls_token/);
  });

  it('a cycle of Identity nodes does not hang', () => {
    const m = timm();
    const add = m.graph!.node!.find((n) => n.opType === 'Add' && n.input!.includes('pos_embed'))!;
    add.input = add.input!.map((i) => (i === 'pos_embed' ? 'loop_a' : i));
    m.graph!.node!.push(node('Identity', ['loop_b'], ['loop_a']), node('Identity', ['loop_a'], ['loop_b']));
    expectRejected(encodeModel(m), UnsupportedModelError);
  });

  it('a model with two inputs or a non-image input', () => {
    const m = timm();
    m.graph!.input!.push({ ...m.graph!.input![0], name: 'second' });
    expectRejected(encodeModel(m), UnsupportedModelError, /2 inputs/);
  });
});
