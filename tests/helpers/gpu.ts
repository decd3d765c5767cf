/**
 * One GPU context per test file (lavapipe in CI, see tests/setup-env.ts). Uncaptured WebGPU errors
 * (shader compile, validation) are collected so each test can assert there were none.
 */
import { afterAll } from 'vitest';
import { acquireGpu, type GpuContext } from '../../src/engine/gpu/device.ts';

export const gpuErrors: string[] = [];
let pending: Promise<GpuContext> | null = null;

export function getGpu(options: { poolReuse?: boolean } = {}): Promise<GpuContext> {
  pending ??= acquireGpu({ onUncapturedError: (m) => gpuErrors.push(m), poolReuse: options.poolReuse });
  return pending;
}

/** Records into one encoder, submits through the pool, and fails on any WebGPU error so far. */
export async function record<T>(ctx: GpuContext, body: (encoder: GPUCommandEncoder) => T): Promise<T> {
  const encoder = ctx.device.createCommandEncoder();
  const result = body(encoder);
  ctx.pool.submit(encoder);
  await ctx.device.queue.onSubmittedWorkDone();
  if (gpuErrors.length) throw new Error(`WebGPU errors:\n${gpuErrors.splice(0).join('\n')}`);
  return result;
}

afterAll(async () => {
  if (pending) (await pending).dispose();
  pending = null;
});
