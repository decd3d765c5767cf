// Per-channel uniform fake-quantizer backward (q, k, v inside the fused qkv, ADFQ §5.5): the twin's channel
// mode equals its per-tensor mode (checked against finite differences in train-quant-backward.test.ts) run
// on each column alone, bit for bit; then the GPU kernel's `channels` entry against the twin: dx exactly
// (it is dy or 0), ∂L/∂Δ per channel within 1e-6·Σ|dy·∂x̂/∂Δ| of that channel (float32 sums of at most 32
// rows per thread, then sum_partials, against a float64 sum).
import { afterAll, describe, expect, test } from 'vitest';
import { uniformQuantBackward } from '../src/engine/kernels/train/uniform-quant-backward.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { uniformQuantBackwardRef, type GradRule, type QuantGrads, type UniformBackwardParams } from '../src/engine/reference/train/quant-backward.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { getGpu, record } from './helpers/gpu.ts';

const worst: string[] = [];
afterAll(() => console.info(`worst errors:\n  ${worst.join('\n  ')}`));

const RULES: [string, GradRule][] = [['default', { x: 'none', delta: 'round' }], ['q/k/v default', { x: 'ste', delta: 'round' }], ['ste-lsq', { x: 'ste', delta: 'lsq' }]];

interface Case { name: string; rows: number; cols: number; bits: number }
const CASES: Case[] = [
  { name: 'q|k|v of 2 images × 5 tokens, 3 heads × 3, 4 bits', rows: 10, cols: 27, bits: 4 },
  { name: '37 × 71, 6 bits', rows: 37, cols: 71, bits: 6 },
  { name: '70 × 300 (two column tiles, three row blocks), 4 bits', rows: 70, cols: 300, bits: 4 },
  { name: '1 × 1, 8 bits', rows: 1, cols: 1, bits: 8 },
];

/** Per-column Δ, z and values in ±1.3·range with every other value on a multiple of Δ/2 (ties, range ends). */
function data(c: Case, seed: number) {
  const L = 2 ** c.bits;
  const delta = randomArray(c.cols, seed, 0.8 / L, 2 / L), zero = Float32Array.from(randomArray(c.cols, seed + 1, 0.2 * L, 0.8 * L), Math.round);
  const x = randomArray(c.rows * c.cols, seed + 2, -1.3, 1.3), dy = randomArray(x.length, seed + 3);
  for (let i = 0; i < x.length; i += 2) { const h = delta[i % c.cols] / 2; x[i] = Math.round(x[i] / h) * h; }
  const p: UniformBackwardParams = { bits: c.bits, granularity: 'channel', delta, zero, cols: c.cols };
  return { x, dy, p };
}

describe('per-channel twin', () => {
  for (const c of CASES) {
    test(`${c.name}: each column as its own per-tensor quantizer`, () => {
      const { x, dy, p } = data(c, 10);
      for (const [, rule] of RULES) {
        const r = uniformQuantBackwardRef(x, dy, p, rule);
        for (let col = 0; col < c.cols; col++) {
          const pick = (a: ArrayLike<number>) => Float32Array.from({ length: c.rows }, (_, r) => a[r * c.cols + col]);  // dx: dy or 0, exact in f32
          const one = uniformQuantBackwardRef(pick(x), pick(dy), { bits: c.bits, granularity: 'tensor', delta: p.delta.slice(col, col + 1), zero: p.zero.slice(col, col + 1), cols: 1 }, rule);
          expect(Array.from(pick(r.dx))).toEqual(Array.from(one.dx));
          expect(r.ddelta[col]).toBe(one.ddelta[0]);
        }
      }
    });
  }
});

function gpuClose(dx: Float32Array | null, ddelta: Float32Array, r: QuantGrads, what: string) {
  if (dx) allClose(dx, r.dx, { atol: 0, rtol: 0 }, `${what} dx`);
  let rel = 0;
  for (let j = 0; j < r.ddelta.length; j++) {
    const bound = 1e-6 * r.ddeltaAbs[j] + 1e-30, d = Math.abs(ddelta[j] - r.ddelta[j]);
    if (!(d <= bound)) throw new Error(`${what} dΔ[${j}]: GPU ${ddelta[j]}, twin ${r.ddelta[j]}, |diff| ${d} > ${bound}`);
    rel = Math.max(rel, d / (r.ddeltaAbs[j] || 1));
  }
  worst.push(`${what}: dΔ within ${rel.toExponential(2)} of Σ|terms| (GPU vs twin)`);
}

describe('uniform_quant_backward per channel on the GPU against the twin', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const ctx = await getGpu();
      const { x, dy, p } = data(c, 20), shape = [c.rows, c.cols];
      for (const [label, rule] of RULES) {
        const got = await record(ctx, (enc) => uniformQuantBackward(ctx, enc, uploadTensor(ctx, x, shape), uploadTensor(ctx, dy, shape), {
          bits: c.bits, granularity: 'channel', rule, delta: uploadTensor(ctx, p.delta, [c.cols]), zero: uploadTensor(ctx, p.zero, [c.cols]),
        }));
        gpuClose(await readTensor(ctx, got.dx!), await readTensor(ctx, got.ddelta), uniformQuantBackwardRef(x, dy, p, rule), `${c.name} ${label}`);
      }
    });
  }

  test('∂L/∂Δ accumulated over two chunks, no dx asked', async () => {
    const ctx = await getGpu();
    const c = CASES[2], { x, dy, p } = data(c, 30), shape = [c.rows, c.cols];
    const rule: GradRule = { x: 'ste', delta: 'lsq' };
    const got = await record(ctx, (enc) => {
      const o = { bits: c.bits, granularity: 'channel' as const, rule, dx: false, delta: uploadTensor(ctx, p.delta, [c.cols]), zero: uploadTensor(ctx, p.zero, [c.cols]) };
      const first = uniformQuantBackward(ctx, enc, uploadTensor(ctx, x, shape), uploadTensor(ctx, dy, shape), o);
      expect(first.dx).toBeNull();
      return uniformQuantBackward(ctx, enc, uploadTensor(ctx, x, shape), uploadTensor(ctx, dy, shape), { ...o, ddelta: first.ddelta, accumulate: true });
    });
    const r = uniformQuantBackwardRef(x, dy, p, rule);
    gpuClose(null, await readTensor(ctx, got.ddelta), { ...r, ddelta: r.ddelta.map((v) => 2 * v), ddeltaAbs: r.ddeltaAbs.map((v) => 2 * v) }, 'accumulated');
  });
});
