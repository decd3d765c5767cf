// The buffer pool (reuse, deferred release, counters, no-reuse debug switch, upload/read) and
// dispatch folding beyond maxComputeWorkgroupsPerDimension.
import { describe, expect, test } from 'vitest';
import { BufferPool, roundSize, STORAGE_USAGE, UNIFORM_USAGE } from '../src/engine/gpu/buffer-pool.ts';
import { foldWorkgroups } from '../src/engine/gpu/kernel.ts';
import { layerNorm } from '../src/engine/kernels/layer-norm.ts';
import { layerNormRef } from '../src/engine/reference/layer-norm.ts';
import { readTensor, uploadTensor } from '../src/engine/gpu/tensor.ts';
import { InternalError, OutOfMemoryError } from '../src/engine/errors.ts';
import { allClose, randomArray } from './helpers/all-close.ts';
import { getGpu, record } from './helpers/gpu.ts';

describe('buffer pool', () => {
  test('roundSize buckets: 16-byte aligned, at most 25% waste above 4 KiB', () => {
    for (const n of [1, 4, 100, 4096, 4097, 10_000, 1 << 20, 3_000_001]) {
      const r = roundSize(n);
      expect(r).toBeGreaterThanOrEqual(n);
      expect(r % 16).toBe(0);
      if (n > 4096) expect(r / n).toBeLessThanOrEqual(1.25);
    }
  });

  test('a released buffer is reused only after recycle(), and counters return to baseline', async () => {
    const { device } = await getGpu();
    const pool = new BufferPool(device);
    const a = pool.acquire(1000);
    expect(pool.bytesInUse).toBe(1024);
    pool.release(a);
    expect(pool.bytesInUse).toBe(0);
    const b = pool.acquire(1000);            // a is pending: the encoder using it may not be submitted yet
    expect(b).not.toBe(a);
    pool.recycle();
    expect(pool.acquire(900)).toBe(a);        // same bucket (1024 B, same usage)
    expect(pool.acquire(1000, UNIFORM_USAGE)).not.toBe(a);  // usage is part of the key
    expect(pool.bytesAllocated).toBe(3 * 1024);
    pool.release(b);
    expect(() => pool.release(b)).toThrow(InternalError);  // released twice
    pool.dispose();
    expect(pool.bytesAllocated).toBe(0);
    expect(pool.bytesInUse).toBe(0);
  });

  test('reuse switched off: nothing is reused and recycle() destroys', async () => {
    const { device } = await getGpu();
    const pool = new BufferPool(device, { reuse: false });
    const a = pool.acquire(64);
    pool.release(a);
    pool.recycle();
    expect(pool.bytesAllocated).toBe(0);
    expect(pool.acquire(64)).not.toBe(a);
    pool.dispose();
  });

  test('upload then read back a region; reuse of an uploaded buffer overwrites it', async () => {
    const ctx = await getGpu();
    const pool = new BufferPool(ctx.device);
    const data = randomArray(300, 9);
    const buf = pool.upload(data);
    expect(Array.from(await pool.read(buf, 10, 100))).toEqual(Array.from(data.subarray(100, 110)));
    pool.release(buf);
    pool.recycle();
    const again = pool.upload(new Float32Array(300).fill(7));
    expect(again).toBe(buf);
    expect(Array.from(await pool.read(again, 3))).toEqual([7, 7, 7]);
    pool.release(again);
    await pool.settle();
    expect(pool.bytesInUse).toBe(0);
    pool.dispose();
  });

  test('a kernel run leaves only its output in use once submitted and released', async () => {
    const ctx = await getGpu();
    await ctx.pool.settle();
    const base = ctx.pool.bytesInUse;
    const x = uploadTensor(ctx, randomArray(12, 1), [3, 4]);
    const g = uploadTensor(ctx, new Float32Array(4).fill(1), [4]);
    const b = uploadTensor(ctx, new Float32Array(4), [4]);
    const y = await record(ctx, (enc) => layerNorm(ctx, enc, x, g, b, 1e-5));
    for (const t of [x, g, b, y]) ctx.pool.release(t.buffer);
    ctx.pool.recycle();
    expect(ctx.pool.bytesInUse).toBe(base);
  });

  test('a buffer larger than the device allows is an OutOfMemoryError with advice', async () => {
    const { device } = await getGpu();
    const pool = new BufferPool(device);
    expect(() => pool.acquire(device.limits.maxStorageBufferBindingSize + 1024, STORAGE_USAGE, 'huge')).toThrow(OutOfMemoryError);
    expect(() => pool.acquire(device.limits.maxStorageBufferBindingSize + 1024)).toThrow(/smaller batch/);
  });
});

describe('dispatch folding', () => {
  test('foldWorkgroups covers the count with every dimension under the limit', () => {
    for (const [count, max] of [[1, 65535], [65535, 65535], [65536, 65535], [1e6, 65535], [50, 7], [300, 7], [343, 7]]) {
      const [x, y, z] = foldWorkgroups(count, max);
      expect(Math.max(x, y, z)).toBeLessThanOrEqual(max);
      expect(x * y * z).toBeGreaterThanOrEqual(count);
      expect(x * y * z - count).toBeLessThan(x * y);  // waste under one z-slice
    }
    expect(() => foldWorkgroups(7 ** 3 + 1, 7)).toThrow(InternalError);
  });

  test('layer_norm over 66,000 rows (more workgroups than one dimension holds)', async () => {
    const ctx = await getGpu();
    const rows = 66_000, cols = 8;
    const x = randomArray(rows * cols, 3), g = randomArray(cols, 4), b = randomArray(cols, 5);
    const y = await record(ctx, (enc) => layerNorm(ctx, enc, uploadTensor(ctx, x, [rows, cols]),
      uploadTensor(ctx, g, [cols]), uploadTensor(ctx, b, [cols]), 1e-5, { workgroupSize: 32, variant: 'workgroup' }));
    allClose(await readTensor(ctx, y), layerNormRef(x, g, b, rows, cols, 1e-5), { atol: 2e-5, rtol: 1e-5 });
  });
});
