/**
 * Where calibration's searches run. The driver (calibrate-gpu.ts) keeps each site's activations on the
 * GPU, possibly over several chunk tensors, and asks a backend for the §2 searches on them:
 *  - the GPU backend (calibration/gpu/) runs them there and reads back only small results;
 *  - the CPU backend reads the tensors back and runs the CPU twins (calibration/*.ts). It is the test
 *    oracle for the GPU backend and needs host memory for one site at a time.
 * Both return the CPU twins' result types.
 */
import { gridSearchHistogram } from '../calibration/grid-search-histogram.ts';
import type { GridInit } from '../calibration/grid-search.ts';
import { percentileMsePerColumn, percentileMsePerToken, SLQ_EPS, type PpoqInit } from '../calibration/per-group.ts';
import { percentileMseLogSqrt2, percentileMseUniform, type LogInit, type UniformInit } from '../calibration/percentile-mse.ts';
import { f32 } from '../calibration/f32.ts';
import { gpuGridSearch, gpuPercentileMseLogSqrt2, gpuPercentileMsePerColumn, gpuPercentileMsePerToken, gpuPercentileMseSlqConst,
  gpuPercentileMseUniform, gpuQuantError, type QuantError } from '../calibration/gpu/index.ts';
import type { GpuContext } from '../gpu/device.ts';
import { releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import { readAll } from '../calibration/gpu/inputs.ts';
import { minMax, minMaxInit, readMinMax } from '../kernels/stats/min-max.ts';
import { quantErrorRef } from '../reference/calib/quant-error.ts';

export interface CalibSearch {
  readonly where: 'cpu' | 'gpu';
  minMax(xs: readonly GpuTensor[]): Promise<{ min: number; max: number }>;
  uniform(xs: readonly GpuTensor[], bits: number): Promise<UniformInit>;
  logSqrt2(xs: readonly GpuTensor[], bits: number): Promise<LogInit>;
  /** SLQ with a constant shift: log√2 percentile-MSE on S = f32(x − shift) + eps. */
  slqConst(xs: readonly GpuTensor[], bits: number, shift: number): Promise<LogInit>;
  /** PPOQ: each tensor [b_i, tokens, channels]. */
  perToken(xs: readonly GpuTensor[], tokens: number, channels: number, tau: number, bits: number): Promise<PpoqInit>;
  /** A weight [rows, cols] (canonical [in, out]); one init per column. */
  perColumn(w: Float32Array, rows: number, cols: number, bits: number): Promise<UniformInit[]>;
  /** §2.3 on a 65,536-bin histogram with bin means (the form the GPU runs). */
  grid(xs: readonly GpuTensor[], bits: number): Promise<GridInit>;
  /** Error of x̂ against x, element by element over the same chunk tensors. */
  error(xs: readonly GpuTensor[], xhats: readonly GpuTensor[]): Promise<QuantError>;
}


export function cpuSearch(ctx: GpuContext): CalibSearch {
  return {
    where: 'cpu',
    async minMax(xs) {
      const x = await readAll(ctx, xs);
      let min = Infinity, max = -Infinity;
      for (const v of x) { if (v < min) min = v; if (v > max) max = v; }
      return { min, max };
    },
    async uniform(xs, bits) { return percentileMseUniform(await readAll(ctx, xs), bits); },
    async logSqrt2(xs, bits) { return percentileMseLogSqrt2(await readAll(ctx, xs), bits); },
    async slqConst(xs, bits, shift) {
      const x = await readAll(ctx, xs);
      for (let i = 0; i < x.length; i++) x[i] = f32(x[i] - shift) + SLQ_EPS;  // the typed array rounds the sum
      return percentileMseLogSqrt2(x, bits);
    },
    async perToken(xs, tokens, channels, tau, bits) {
      const x = await readAll(ctx, xs);
      return percentileMsePerToken(x, [x.length / (tokens * channels), tokens, channels], tau, bits);
    },
    async perColumn(w, rows, cols, bits) { return percentileMsePerColumn(w, rows, cols, bits); },
    async grid(xs, bits) { return gridSearchHistogram(await readAll(ctx, xs), bits, { bins: 65536, representative: 'mean' }); },
    async error(xs, xhats) { return quantErrorRef([await readAll(ctx, xs)], [await readAll(ctx, xhats)]); },
  };
}

export function gpuSearch(ctx: GpuContext): CalibSearch {
  return {
    where: 'gpu',
    async minMax(xs) {
      const enc = ctx.device.createCommandEncoder({ label: 'calib min/max' });
      const acc = ctx.pool.guard(() => minMaxInit(ctx, enc));
      try {
        for (const x of xs) minMax(ctx, enc, x, acc);
        ctx.pool.submit(enc);
        const r = await readMinMax(ctx, acc);
        return { min: r.min, max: r.max };
      } finally { releaseTensor(ctx, acc); }
    },
    uniform: (xs, bits) => gpuPercentileMseUniform(ctx, xs, bits),
    logSqrt2: (xs, bits) => gpuPercentileMseLogSqrt2(ctx, xs, bits),
    slqConst: (xs, bits, shift) => gpuPercentileMseSlqConst(ctx, xs, bits, shift),
    perToken: (xs, tokens, channels, tau, bits) => gpuPercentileMsePerToken(ctx, xs, tokens, channels, tau, bits),
    async perColumn(w, rows, cols, bits) {
      const t = uploadTensor(ctx, w, [rows, cols], 'weight');
      try { return await gpuPercentileMsePerColumn(ctx, t, rows, cols, bits); } finally { releaseTensor(ctx, t); }
    },
    grid: (xs, bits) => gpuGridSearch(ctx, xs, bits),
    error: (xs, xhats) => gpuQuantError(ctx, xs, xhats),
  };
}
