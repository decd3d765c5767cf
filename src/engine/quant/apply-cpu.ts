/**
 * The quantizers of params.ts applied on the CPU with the bit-exact twins (reference/quant/): weights
 * once at load (simulated quantization: the result stays FP32), activations in the CPU forward twin.
 */
import { logQuantRef, slqQuantRef } from '../reference/quant/log-quant.ts';
import { ppoqQuantRef, uniformQuantRef } from '../reference/quant/uniform-quant.ts';
import type { BlockWeights, ViTModel } from '../vit/description.ts';
import type { ActQuant, BlockQuantParams, ChannelQuant, WeightQuantParams } from './params.ts';
import { roundedWeight, unpackRounding, type WeightLayer } from './weight-rounding.ts';

const f32a = (v: number[]): Float32Array => Float32Array.from(v);

/** Fake-quantizes x viewed as [rows, cols]; PPOQ's row r is token r % tokens. */
export function fakeQuantActCpu(q: ActQuant, x: Float32Array, cols: number, tokens: number, bits: number): Float32Array {
  switch (q.kind) {
    case 'uniform':
      return uniformQuantRef(x, { bits, granularity: 'tensor', delta: f32a([q.delta]), zero: f32a([q.zero]), cols }).y;
    case 'ppoq':
      return ppoqQuantRef(x, { bits, tau: q.tau, delta: f32a(q.delta), zero: f32a(q.zero), cols, tokens }).y;
    case 'log':
      return logQuantRef(x, { bits, delta: q.delta, base: q.base }).y;
    case 'slq':
      return slqQuantRef(x, { bits, delta: q.delta, base: q.base, shift: q.shift }).y;
  }
}

/** A weight [in, out] fake-quantized per output column, rounded to nearest. */
export function fakeQuantNearest(w: Float32Array, q: ChannelQuant, bits: number): Float32Array {
  return uniformQuantRef(w, { bits, granularity: 'channel', delta: f32a(q.delta), zero: f32a(q.zero), cols: q.delta.length }).y;
}

/** The model with every Linear/conv weight replaced by its fake-quantized value; biases, LN, embeddings stay FP32. */
export function quantizeModelWeights(model: ViTModel, p: WeightQuantParams): ViTModel {
  const w = model.weights, b = p.bitsW;
  // Nearest rounding, or ASMO's hardened choice where the params carry one for that layer.
  const fakeQuantWeight = (v: Float32Array, q: ChannelQuant, bits: number, layer: WeightLayer) => {
    const mask = p.rounding?.[layer];
    return mask ? roundedWeight(v, q, bits, unpackRounding(mask, v.length)) : fakeQuantNearest(v, q, bits);
  };
  if (p.blocks.length !== w.blocks.length) throw new Error(`Quantization parameters describe ${p.blocks.length} blocks; the model has ${w.blocks.length}.`);
  if ((w.headDistW !== null) !== (p.headDistW !== undefined)) throw new Error('Quantization parameters and model disagree on the distillation head.');
  const blocks = w.blocks.map((blk, i): BlockWeights => {
    const q = p.blocks[i];
    return { ...blk, qkvW: fakeQuantWeight(blk.qkvW, q.qkvW, b, `blocks.${i}.qkv`), projW: fakeQuantWeight(blk.projW, q.projW, b, `blocks.${i}.proj`),
      fc1W: fakeQuantWeight(blk.fc1W, q.fc1W, b, `blocks.${i}.fc1`), fc2W: fakeQuantWeight(blk.fc2W, q.fc2W, b, `blocks.${i}.fc2`) };
  });
  return { ...model, weights: { ...w, blocks,
    patchW: fakeQuantWeight(w.patchW, p.patchW, b, 'patch'),
    headW: fakeQuantWeight(w.headW, p.headW, b, 'head'),
    headDistW: w.headDistW && p.headDistW ? fakeQuantWeight(w.headDistW, p.headDistW, b, 'headDist') : null } };
}

/** Δ, z of q, k and v repeated over the fused qkv's [3·dim] columns: one per-channel call does all three. */
export function qkvChannelParams(p: Pick<BlockQuantParams, 'q' | 'k' | 'v'>, dim: number): { delta: Float32Array; zero: Float32Array } {
  const delta = new Float32Array(3 * dim), zero = new Float32Array(3 * dim);
  [p.q, p.k, p.v].forEach((u, i) => { delta.fill(u.delta, i * dim, (i + 1) * dim); zero.fill(u.zero, i * dim, (i + 1) * dim); });
  return { delta, zero };
}
