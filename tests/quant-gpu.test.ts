// GPU fake quantizers (shaders/quant/) against their CPU twins on every shared case (reference vectors
// and synthetic boundary cases): codes must match exactly and outputs bit for bit. Uniform and PPOQ run
// twice, with the hardware-quotient fast path and with the exact integer division forced everywhere.
import { describe, expect, test } from 'vitest';
import { UsageError, ShapeError } from '../src/engine/errors.ts';
import type { GpuContext } from '../src/engine/gpu/device.ts';
import { readTensor, releaseTensor, uploadTensor, type GpuTensor } from '../src/engine/gpu/tensor.ts';
import { logQuant, ppoqQuant, slqQuant, uniformQuant, type FakeQuantOutput } from '../src/engine/kernels/index.ts';
import { readU32 } from '../src/engine/kernels/stats/grid.ts';
import { getGpu, record } from './helpers/gpu.ts';
import { QUANT_CASES, twinOf, type QuantCase } from './quant-cases.ts';
import { sameBits } from './stats-cases.ts';

async function runCase(ctx: GpuContext, c: QuantCase, exactDivision: boolean, shiftOnGpu = false) {
  const x = uploadTensor(ctx, c.x, [c.rows, c.cols]);
  const owned: GpuTensor[] = [x];
  const up = (a: Float32Array) => { const t = uploadTensor(ctx, a, [a.length]); owned.push(t); return t; };
  let perToken: GpuTensor | null = null;
  const out: FakeQuantOutput = await record(ctx, (e) => {
    switch (c.kind) {
      case 'uniform': return uniformQuant(ctx, e, x, { ...c, delta: up(c.delta), zero: up(c.zero), codes: true, exactDivision });
      case 'ppoq': { const r = ppoqQuant(ctx, e, x, { ...c, delta: up(c.delta), zero: up(c.zero), codes: true, exactDivision }); perToken = r.outliers; return r; }
      case 'log': return logQuant(ctx, e, x, { ...c, delta: up(new Float32Array([c.delta])), codes: true });
      case 'slq': return slqQuant(ctx, e, x, { ...c, delta: up(new Float32Array([c.delta])), codes: true,
        shift: shiftOnGpu ? up(new Float32Array([c.shift, 123])) : c.shift });
    }
  });
  const res = { y: await readTensor(ctx, out.y), codes: await readU32(ctx, out.codes!, c.x.length),
    perToken: perToken ? await readU32(ctx, perToken) : null };
  for (const t of [...owned, out.y, out.codes!, ...(perToken ? [perToken] : [])]) releaseTensor(ctx, t);
  return res;
}

function firstCodeDiff(a: Uint32Array, b: Uint32Array): string | null {
  const i = a.findIndex((v, k) => v !== b[k]);
  return i < 0 ? null : `[${i}]: ${a[i]} != ${b[i]}`;
}

describe('fake quantizers on the GPU match their twins exactly', () => {
  for (const c of QUANT_CASES) {
    test(c.name, async () => {
      const ctx = await getGpu();
      const ref = twinOf(c);
      const modes = c.kind === 'uniform' || c.kind === 'ppoq' ? [false, true] : c.kind === 'slq' ? [false, true] : [false];
      for (const m of modes) {
        const got = await runCase(ctx, c, m, m);
        expect(firstCodeDiff(got.codes, ref.codes), `codes (mode ${m})`).toBeNull();
        expect(sameBits(got.y, ref.y), `output (mode ${m})`).toBeNull();
        if (ref.perToken) expect([...got.perToken!]).toEqual([...ref.perToken]);
      }
    });
  }
});

describe('fake quantizer wrappers', () => {
  test('reject bad shapes and options with typed errors; codes are optional', async () => {
    const ctx = await getGpu();
    const x = uploadTensor(ctx, new Float32Array(12).fill(0.3), [3, 4]);
    const d4 = uploadTensor(ctx, new Float32Array(4).fill(0.1), [4]);
    const d1 = uploadTensor(ctx, new Float32Array([0.1]), [1]);
    const z4 = uploadTensor(ctx, new Float32Array(4), [4]);
    await record(ctx, (e) => {
      expect(() => uniformQuant(ctx, e, x, { bits: 4, granularity: 'channel', delta: d1, zero: d1 })).toThrow(ShapeError);
      expect(() => uniformQuant(ctx, e, x, { bits: 0, granularity: 'tensor', delta: d1, zero: d1 })).toThrow(UsageError);
      expect(() => ppoqQuant(ctx, e, x, { bits: 4, tau: -1, delta: d4, zero: d4, tokens: 4 })).toThrow(UsageError);
      expect(() => logQuant(ctx, e, x, { bits: 4, delta: d4 })).toThrow(ShapeError);
    });
    const r = await record(ctx, (e) => uniformQuant(ctx, e, x, { bits: 4, granularity: 'channel', delta: d4, zero: z4 }));
    expect(r.codes).toBeNull();
    expect([...await readTensor(ctx, r.y)].every((v) => v === Math.fround(3 * Math.fround(0.1)))).toBe(true);
    for (const t of [x, d4, d1, z4, r.y]) releaseTensor(ctx, t);
  });
});
