/** Fake quantizers on the GPU (shaders/quant/): one wrapper per shader; PPOQ shares uniform_quant. */
import type { Kernel } from '../../gpu/kernel.ts';
import { logQuantKernel } from './log-quant.ts';
import { uniformQuantKernel } from './uniform-quant.ts';

export { logQuant, slqQuant, type LogQuantOptions, type SlqOptions } from './log-quant.ts';
export { ppoqQuant, type PpoqOptions, type PpoqOutput } from './ppoq-quant.ts';
export { uniformQuant, type FakeQuantOutput, type Granularity, type UniformQuantOptions } from './uniform-quant.ts';

export const QUANT_KERNELS: readonly Kernel[] = [logQuantKernel, uniformQuantKernel];
