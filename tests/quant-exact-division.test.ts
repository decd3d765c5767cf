// The integer long division of shaders/common/exact_division.wgsl (exact_div_bits), transcribed line by
// line into JS u32 arithmetic and checked against the correctly rounded float32 quotient on random,
// tie-adjacent, subnormal and overflowing operands. (On lavapipe the hardware `/` is correctly rounded
// too, so the GPU suite exercises this path by forcing it with EXACT_DIV; this test covers operand
// ranges beyond it.)
import { expect, test } from 'vitest';
import { bitsF32, f32Bits } from '../src/engine/reference/quant/rounding.ts';
import { randomArray } from './helpers/all-close.ts';

const clz32 = Math.clz32;
function roundShift(q: number, s: number, sticky: boolean): number {
  const kept = q >>> s, rem = q & ((1 << s) - 1), half = 1 << (s - 1);
  return kept + (rem > half || (rem === half && (sticky || (kept & 1) === 1)) ? 1 : 0);
}
function unpack(b: number): [number, number] {
  const f = b & 0x7fffff, e = b >>> 23;
  if (e === 0) { const s = clz32(f) - 8; return [f << s, -126 - s]; }
  return [f | 0x800000, e - 127];
}
function exactDivBits(ab: number, bb: number): number {
  if (ab === 0 || ab >= 0x7f800000) return ab;
  let [ma, ea] = unpack(ab); const [mb, eb] = unpack(bb);
  let e = ea - eb;
  if (ma < mb) { ma *= 2; e -= 1; }
  let q = 0, r = ma;
  for (let i = 0; i < 25; i++) { q *= 2; if (r >= mb) { r -= mb; q |= 1; } r *= 2; }
  const sticky = r !== 0;
  if (e > 127) return 0x7f800000;
  if (e >= -126) return (((e + 126) << 23) >>> 0) + roundShift(q, 1, sticky);
  const s = -125 - e;
  return s > 25 ? 0 : roundShift(q, s, sticky);
}

test('exact_div_bits is the correctly rounded float32 quotient', () => {
  const u = randomArray(200_000, 42, 0, 1), v = randomArray(200_000, 43, 0, 1);
  let checked = 0;
  for (let i = 0; i < u.length; i++) {
    // Exponents over the whole range (subnormal and overflowing quotients), and x near (k + ½)·Δ.
    const b = bitsF32(((Math.floor(v[i] * 253) + 1) << 23) | (f32Bits(v[i]) & 0x7fffff));
    const a = i % 3 === 0 ? bitsF32(f32Bits(Math.fround((Math.floor(u[i] * 64) + 0.5) * b)) + (i % 5) - 2)
      : i % 3 === 1 ? bitsF32(Math.floor(u[i] * 0x7f800000)) : Math.fround(u[i] * 4 * b);
    if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) continue;
    expect(exactDivBits(f32Bits(a), f32Bits(b)), `${a} / ${b}`).toBe(f32Bits(Math.fround(a / b)));
    checked++;
  }
  expect(checked).toBeGreaterThan(150_000);
  expect(exactDivBits(f32Bits(1), f32Bits(3))).toBe(f32Bits(Math.fround(1 / 3)));
  expect(exactDivBits(f32Bits(1.4e-45), f32Bits(2))).toBe(0);  // half of the smallest subnormal: tie to even
});
