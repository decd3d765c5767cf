/**
 * Out of GPU memory, without a real one: a shim over the GPUDevice makes chosen createBuffer calls report
 * a GPUOutOfMemoryError to the innermost 'out-of-memory' error scope (as Dawn does for a failed
 * allocation; the buffer itself is a real one), or shrinks the device's limits. The engine turns the
 * failure into an OutOfMemoryError "needs N MB, have M MB; try batch B" whose numbers follow the memory
 * plans (model/memory.ts, quant/memory-plan.ts), and the failed run leaves nothing in use.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAsmo } from '../src/engine/asmo/optimize.ts';
import { asmoMemoryPlan } from '../src/engine/asmo/memory-plan.ts';
import { DEFAULT_ASMO_SETTINGS } from '../src/engine/asmo/settings.ts';
import { OutOfMemoryError } from '../src/engine/errors.ts';
import { BufferPool, STORAGE_USAGE } from '../src/engine/gpu/buffer-pool.ts';
import type { GpuContext } from '../src/engine/gpu/device.ts';
import { bufferLimitWithBatch, largestFitting, oomDetails } from '../src/engine/gpu/oom.ts';
import { activationBytesPerImage } from '../src/engine/model/memory.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { evaluate } from '../src/engine/eval/evaluate.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrationMemoryPlan } from '../src/engine/quant/memory-plan.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/quantize.ts';
import type { ViTModel } from '../src/engine/vit/description.ts';
import { getGpu, gpuErrors } from './helpers/gpu.ts';

interface Shim {
  ctx: GpuContext;
  /** bytesAllocated of the shim's pool when each failing createBuffer was called. */
  failedAt: { label?: string; size: number; allocated: number }[];
  fail: ((d: GPUBufferDescriptor) => boolean) | null;
}

/**
 * A GpuContext whose device (and pool) fail the createBuffer calls `fail` picks with a synthetic
 * GPUOutOfMemoryError in the innermost 'out-of-memory' scope; `limits` overrides device limits.
 */
function shimContext(real: GpuContext, limits: Partial<Record<keyof GPUSupportedLimits, number>> = {}): Shim {
  const device = real.device, scopes: { filter: GPUErrorFilter; error: GPUError | null }[] = [];
  const shim: Shim = { ctx: null as unknown as GpuContext, failedAt: [], fail: null };
  const limitsProxy = new Proxy(device.limits, {
    get: (t, p) => (p in limits ? limits[p as keyof typeof limits] : Reflect.get(t, p, t)),
  });
  const own: Partial<GPUDevice> = {
    pushErrorScope(filter: GPUErrorFilter) { scopes.push({ filter, error: null }); device.pushErrorScope(filter); },
    async popErrorScope() { const s = scopes.pop(); const realError = await device.popErrorScope(); return s?.error ?? realError; },
    createBuffer(d: GPUBufferDescriptor) {
      const buf = device.createBuffer(d);
      if (shim.fail?.(d)) {
        shim.failedAt.push({ label: d.label, size: d.size, allocated: pool.bytesAllocated });
        const scope = [...scopes].reverse().find((s) => s.filter === 'out-of-memory');
        if (scope) scope.error ??= new GPUOutOfMemoryError(`synthetic: no memory for ${d.label ?? 'a buffer'} (${d.size} B)`);
      }
      return buf;
    },
  };
  const proxy = new Proxy(device, {
    get(t, p) {
      if (p === 'limits') return limitsProxy;
      if (p in own) return own[p as keyof GPUDevice];
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  const pool = new BufferPool(proxy);
  shim.ctx = { ...real, device: proxy, limits: limitsProxy, pool, dispose: () => pool.dispose() };
  return shim;
}

const MB = /needs (\d+(?:\.\d)?) MB, have (\d+(?:\.\d)?) MB; try batch (\d+)/;
let real: GpuContext, model: ViTModel, pixels: Float32Array;
/** One demo sample image (the evaluation decodes it; the predict below feeds the runner the test's pixels). */
const demoPng = new Uint8Array(readFileSync(new URL('../public/demo/images/' + JSON.parse(readFileSync(new URL('../public/demo/manifest.json', import.meta.url), 'utf8')).images[0], import.meta.url)));
const N = 12;

beforeAll(async () => {
  real = await getGpu();
  model = importViT(new Uint8Array(readFileSync(new URL('../public/demo/vit-fmnist-outliers.onnx', import.meta.url))));
  const per = 3 * 28 * 28;
  pixels = Float32Array.from({ length: N * per }, (_, i) => Math.sin(i * 0.37) * 0.9);
});

describe('out of GPU memory', () => {
  it('a forward that runs out of memory: typed error with the plan\'s numbers and a batch that fits; nothing leaks', async () => {
    const shim = shimContext(real), { ctx } = shim, pool = ctx.pool;
    const runner = new ViTRunner(ctx, model);
    const baseline = pool.snapshot(), cap = baseline.bytesAllocated + 600_000;  // a GPU with 0.6 MB left after the weights
    shim.fail = (d) => pool.bytesAllocated + d.size > cap;
    const err = await runner.forward(pixels, N).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const e = err as OutOfMemoryError, d = oomDetails(e)!;
    expect(e.code).toBe('out-of-memory');
    console.log(`[gpu-oom] ${e.message}`);
    const m = MB.exec(e.message)!;
    expect(m, e.message).not.toBeNull();

    const perImage = 2 * activationBytesPerImage(model.config).block, have = shim.failedAt[0].allocated;
    expect(have).toBeLessThanOrEqual(cap);
    expect(d).toMatchObject({ kind: 'allocation', batch: N, needBytes: baseline.bytesInUse + perImage * N, haveBytes: have });
    const fits = (b: number) => baseline.bytesInUse + perImage * b <= have, b = d.suggestedBatch!;
    expect(b).toBe(largestFitting(N - 1, fits));
    expect(b).toBeGreaterThanOrEqual(1);
    expect(fits(b) && !fits(b + 1)).toBe(true);
    expect(Number(m[1])).toBeCloseTo(d.needBytes / 1e6, 1);
    expect(Number(m[2])).toBeCloseTo(have / 1e6, 1);
    expect(Number(m[3])).toBe(b);

    // Nothing in use beyond the weights; the failed buffers and the free lists were dropped (trim).
    expect(pool.snapshot()).toMatchObject({ bytesInUse: baseline.bytesInUse, buffersInUse: baseline.buffersInUse });
    expect(pool.bytesAllocated).toBe(pool.bytesInUse);

    // The suggested batch runs on the same small GPU and gives the real device's logits.
    shim.failedAt.length = 0;
    const part = pixels.subarray(0, b * 3 * 28 * 28);
    const ref = new ViTRunner(real, model), want = await ref.forward(part, b);
    ref.dispose();
    expect(Array.from(await runner.forward(part, b))).toEqual(Array.from(want));
    expect(shim.failedAt).toEqual([]);
    runner.dispose();
    expect(pool.snapshot()).toMatchObject({ bytesInUse: 0, buffersInUse: 0 });
    pool.dispose();
    expect(gpuErrors).toEqual([]);
  });

  it('an evaluation that runs out of memory goes on at the suggested batch: every image predicted, as on a large GPU', async () => {
    const shim = shimContext(real), { ctx } = shim, pool = ctx.pool, runner = new ViTRunner(ctx, model), per = 3 * 28 * 28;
    const cap = pool.snapshot().bytesAllocated + 600_000;
    shim.fail = (d) => pool.bytesAllocated + d.size > cap;
    // N copies of one demo image; predict runs the runner on the test's pixels, so only the batch sizes matter here.
    const sources = Array.from({ length: N }, (_, i) => ({ name: `img${i}`, label: i % 10, load: async () => demoPng }));
    const notices: string[] = [], batches: number[] = [];
    const predictFrom = (r: ViTRunner) => async (_px: Float32Array, b: number) => {
      batches.push(b);
      return r.forward(pixels.subarray(0, b * per), b);
    };
    const decoded = { resize: 28, imageSize: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const result = await evaluate({
      sources, predict: predictFrom(runner), spec: decoded,
      numClasses: model.config.numClasses, batchSize: N, onNotice: (m) => notices.push(m),
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/needs .* MB, have .* MB; try batch \d+.*Going on at batch \d+\./);
    expect(batches[0]).toBe(N);
    expect(batches.slice(1).every((b) => b < N)).toBe(true);
    expect(result.predictions).toHaveLength(N);
    expect(result.skipped).toEqual([]);
    runner.dispose();
    expect(pool.snapshot()).toMatchObject({ bytesInUse: 0, buffersInUse: 0 });
    pool.dispose();
  });

  it('weights that do not fit: the first forward says so, and dispose() returns what was uploaded', async () => {
    const shim = shimContext(real), pool = shim.ctx.pool;
    shim.fail = (d) => d.label === 'blocks.3.fc1.w';
    const runner = new ViTRunner(shim.ctx, model);
    const e = await runner.forward(pixels.subarray(0, 3 * 28 * 28), 1).catch((x: unknown) => x) as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(/holding this model's weights \(\d+(\.\d)? MB\): needs \d+(\.\d)? MB, have \d+(\.\d)? MB; even batch 1 does not fit/);
    runner.dispose();
    expect(pool.snapshot()).toMatchObject({ bytesInUse: 0, buffersInUse: 0 });
    pool.dispose();
  });

  it('a failed first allocation of a single image: no batch fits, and the message says so', async () => {
    const shim = shimContext(real), pool = shim.ctx.pool;
    const runner = new ViTRunner(shim.ctx, model);
    shim.fail = (d) => d.label === 'image';
    const e = await runner.forward(pixels.subarray(0, 3 * 28 * 28), 1).catch((x: unknown) => x) as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(/needs \d+(\.\d)? MB, have \d+(\.\d)? MB; even batch 1 does not fit/);
    expect(oomDetails(e)).toMatchObject({ batch: 1, suggestedBatch: 0 });
    expect(pool.bytesInUse).toBe(runner.weights.bytes);
    expect(pool.buffersInUse).toBe(4 + 12 * model.config.depth + 4);
    runner.dispose();
    pool.dispose();
  });

  it('calibration that runs out of memory: needs the plan\'s peak, have what the pool got, try fewer calibration images', async () => {
    const shim = shimContext(real), { ctx } = shim, pool = ctx.pool, images = 12, cap = 7_500_000;
    shim.fail = (d) => pool.bytesAllocated + d.size > cap;
    const before = pool.snapshot();
    const err = await calibrate(ctx, model, pixels, images, { ...DEFAULT_QUANTIZE_SETTINGS, method: 'percentile' }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const e = err as OutOfMemoryError, d = oomDetails(e)!;
    console.log(`[gpu-oom] ${e.message}`);
    const plan = (n: number) => calibrationMemoryPlan(model.config, n, ctx.limits.maxStorageBufferBindingSize).peakBytes;
    const have = shim.failedAt[0].allocated;
    expect(d).toMatchObject({ kind: 'allocation', batch: images, needBytes: before.bytesInUse + plan(images), haveBytes: have });
    expect(d.suggestedBatch).toBe(plan(images) <= have ? images / 2 : largestFitting(images - 1, (n) => plan(n) <= have));
    expect(e.message).toMatch(MB);
    expect(e.message).toMatch(/calibration images/);
    expect(pool.snapshot()).toMatchObject({ bytesInUse: before.bytesInUse, buffersInUse: before.buffersInUse });
    pool.dispose();
  });

  it('ASMO that runs out of memory mid-run: no checkpoint after the failure, try a smaller mini-batch; nothing leaks', async () => {
    const cal = await calibrate(real, model, pixels, N, { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax', bitsW: 4, bitsA: 4 });
    const shim = shimContext(real), { ctx } = shim, pool = ctx.pool, batch = 8;
    const settings = { ...DEFAULT_ASMO_SETTINGS, iters: 3, batch, modules: { patch: false, attention: false, mlp: true, head: true } };
    const before = pool.snapshot(), done: number[] = [];
    let allocations = 0;
    // The first module runs; an allocation of the second fails (its buffers are made anew: reuse is off from then on).
    const err = await runAsmo(ctx, model, { pixels, n: N, params: cal.params, settings }, {
      onEvent: (e) => {
        if (e.type === 'module-done') done.push(e.index);
        if (e.type === 'module-start' && e.index === 1) { pool.reuse = false; allocations = 0; shim.fail = () => ++allocations === 3; }
      },
    }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const e = err as OutOfMemoryError, d = oomDetails(e)!;
    console.log(`[gpu-oom] ${e.message}`);
    expect(done).toEqual([0]);
    expect(e.message).toMatch(MB);
    expect(e.message).toMatch(/ASMO mini-batch.*Finished modules are kept/);
    const need = (b: number) => before.bytesInUse + asmoMemoryPlan(model.config, N, b, ctx.limits).peakBytes;
    expect(d).toMatchObject({ batch, needBytes: need(batch), haveBytes: shim.failedAt[0].allocated });
    expect(d.suggestedBatch).toBe(need(batch) <= d.haveBytes ? batch / 2 : largestFitting(batch - 1, (b) => need(b) <= d.haveBytes));
    expect(d.suggestedBatch).toBeGreaterThan(0);
    expect(pool.snapshot()).toMatchObject({ bytesInUse: before.bytesInUse, buffersInUse: before.buffersInUse });
    pool.dispose();
  });

  it('the pool\'s per-buffer limit: typed error with the sizes, and a batch when the caller knows it', () => {
    const shim = shimContext(real, { maxBufferSize: 1 << 20, maxStorageBufferBindingSize: 1 << 20 }), pool = shim.ctx.pool;
    const perImage = 300_000, batch = 16;
    let thrown: unknown;
    try { pool.acquire(perImage * batch, STORAGE_USAGE, 'fc1'); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(OutOfMemoryError);
    expect(oomDetails(thrown)).toMatchObject({ kind: 'buffer-limit', needBytes: perImage * batch, haveBytes: 1 << 20, batch: null, label: 'fc1' });
    const withBatch = bufferLimitWithBatch(thrown, batch, 'Running 16 images at once')!;
    expect(withBatch.message).toMatch(/^Running 16 images at once: one buffer \(fc1\) exceeds this GPU's per-buffer limit: needs 4\.8 MB, have 1\.0 MB; try batch 3\./);
    expect(oomDetails(withBatch)).toMatchObject({ kind: 'buffer-limit', suggestedBatch: 3 });  // 3 × 300 kB ≤ 1 MiB < 4 × 300 kB
    expect(pool.snapshot()).toMatchObject({ bytesInUse: 0, buffersInUse: 0, bytesAllocated: 0 });
  });

  it('a batch planned to fill a binding exactly is not failed by the pool\'s size rounding', async () => {
    // fc1 of 10 demo images is 261,120 B; its bucket would be 262,144 B, above a 261,120 B limit.
    const fc1 = 17 * 384 * 4, limit = 10 * fc1;
    const shim = shimContext(real, { maxStorageBufferBindingSize: limit });
    const runner = new ViTRunner(shim.ctx, model);
    expect(runner.maxChunk()).toBe(10);
    const ref = new ViTRunner(real, model), want = await ref.forward(pixels.subarray(0, 10 * 3 * 28 * 28), 10);
    ref.dispose();
    expect(Array.from(await runner.forward(pixels.subarray(0, 10 * 3 * 28 * 28), 10))).toEqual(Array.from(want));
    runner.dispose();
    shim.ctx.pool.dispose();
    expect(gpuErrors).toEqual([]);
  });
});
