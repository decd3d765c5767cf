/**
 * ASMO's memory plan (asmo/memory-plan.ts): what a run holds on the GPU, stated before it starts. Issue 5:
 * a DeiT-S with 1024 images must fit a laptop GPU (streams, not cached attention maps).
 */
import { describe, expect, it } from 'vitest';
import { asmoMemoryPlan, asmoStepBytes } from '../src/engine/asmo/memory-plan.ts';

const deitS = { tokens: 197, dim: 384, heads: 6, mlpDim: 1536, inChannels: 3, patch: 16, numClasses: 1000, depth: 12 };
const limits = { maxBufferSize: 2 ** 31 };
const GiB = 2 ** 30;

describe('ASMO memory plan', () => {
  it('DeiT-S, 1024 images, batch 32: streams on the GPU, under 1.5 GiB in all', () => {
    const p = asmoMemoryPlan(deitS, 1024, 32, limits);
    expect(p.storage).toBe('gpu');
    expect(p.streamBytes).toBe(2 * 1024 * 197 * 384 * 4);
    expect(p.peakBytes).toBeLessThan(1.5 * GiB);
    // Caching A_fp for every image would add 1024·6·197²·4 bytes ≈ 0.9 GiB; the plan has none of it.
    expect(p.peakBytes).toBeLessThan(p.streamBytes + asmoStepBytes(deitS, 32) + 0.2 * GiB);
    expect(p.summary).toMatch(/ASMO on 1024 images: residual streams on the GPU \(591 MiB\)/);
  });

  it('streams above the budget move to host memory; the GPU peak then no longer grows with the images', () => {
    const big = asmoMemoryPlan(deitS, 8192, 32, limits), huge = asmoMemoryPlan(deitS, 32768, 32, limits);
    expect(big.storage).toBe('host');
    expect(huge.peakBytes).toBe(big.peakBytes);
    expect(big.summary).toMatch(/in host memory/);
  });

  it('a step larger than the GPU buffer limit says to use a smaller batch', () => {
    expect(asmoMemoryPlan(deitS, 64, 512, { maxBufferSize: 256 * 2 ** 20 }).summary).toMatch(/use a smaller batch/);
  });
});
