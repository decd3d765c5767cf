/**
 * The engine needs no optional WebGPU feature (shader-f16, subgroups, timestamp-query…) and runs on
 * WebGPU's default limits: a device requested with neither runs the forward pass, both kernel variants
 * (GPU tiles and per-thread), and the quantized forward, with the same logits as the main context.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireGpu, type GpuContext } from '../src/engine/gpu/device.ts';
import { QuantViTRunner } from '../src/engine/model/quant-runner.ts';
import { ViTRunner } from '../src/engine/model/vit-runner.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { calibrate, DEFAULT_QUANTIZE_SETTINGS } from '../src/engine/quant/quantize.ts';
import { getGpu, gpuErrors } from './helpers/gpu.ts';

const model = importViT(new Uint8Array(readFileSync(new URL('../public/demo/vit-fmnist-outliers.onnx', import.meta.url))));
const N = 3, pixels = Float32Array.from({ length: N * 3 * 28 * 28 }, (_, i) => Math.cos(i * 0.11) * 0.8);
const plainErrors: string[] = [];
let plain: GpuContext | null = null;

afterAll(() => plain?.dispose());

function wgslFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? wgslFiles(p) : p.endsWith('.wgsl') ? [p] : [];
  });
}

describe('no optional features, default limits', () => {
  it('no shader enables an extension', () => {
    const files = wgslFiles(fileURLToPath(new URL('../shaders', import.meta.url)));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(/^\s*(enable|requires)\s/m);
  });

  it('the context lists what the adapter offers, and the device enables none of it', async () => {
    plain = await acquireGpu({ limits: 'default', onUncapturedError: (m) => plainErrors.push(m) });
    expect(Array.isArray(plain.features)).toBe(true);
    const optional = ['shader-f16', 'subgroups', 'timestamp-query', 'float32-filterable'];
    for (const f of optional) expect(plain.device.features.has(f), f).toBe(false);
    expect(plain.limits.maxStorageBufferBindingSize).toBe(128 * 2 ** 20);
    expect(plain.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    // The main context raises limits but requests no feature either.
    const main = await getGpu();
    for (const f of optional) expect(main.device.features.has(f), f).toBe(false);
  });

  it.each([['per-thread kernels', true], ['workgroup kernels', false]] as const)('forward and quantized forward with %s', async (_, software) => {
    const main = await getGpu(), ctx: GpuContext = { ...plain!, isSoftware: software };
    const ref = new ViTRunner({ ...main, isSoftware: software }, model), want = await ref.forward(pixels, N);
    ref.dispose();
    const runner = new ViTRunner(ctx, model);
    const got = await runner.forward(pixels, N);
    runner.dispose();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `logit ${i}`).toBeLessThan(1e-5);

    const cal = await calibrate(main, model, pixels, N, { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' });
    const qMain = new QuantViTRunner({ ...main, isSoftware: software }, model, cal.params), q = new QuantViTRunner(ctx, model, cal.params);
    const [qa, qb] = [await qMain.forward(pixels, N), await q.forward(pixels, N)];
    qMain.dispose();
    q.dispose();
    for (let i = 0; i < qa.length; i++) expect(Math.abs(qa[i] - qb[i]), `quantized logit ${i}`).toBeLessThan(1e-5);
    expect(plainErrors).toEqual([]);
    expect(gpuErrors).toEqual([]);
  });
});
