/** Activation statistics on the GPU (shaders/stats/): one wrapper per shader, plus the quantile driver. */
import type { Kernel } from '../../gpu/kernel.ts';
import { axisMinMaxKernel } from './axis-min-max.ts';
import { countAboveKernel } from './count-above.ts';
import { histogramKernel } from './histogram.ts';
import { minMaxKernel } from './min-max.ts';
import { radixHistogramKernel } from './radix-histogram.ts';

export { axisMinMaxInit, channelMinMax, tokenMinMax, type AxisMinMaxAcc } from './axis-min-max.ts';
export { countAbove, countAboveInit, readCountAbove, type CountAboveAcc } from './count-above.ts';
export { histogram, histogramInit, readHistogram, MAX_BINS, type HistogramAcc, type HistogramResult } from './histogram.ts';
export { minMax, minMaxInit, readMinMax, type MinMaxAcc, type MinMaxResult } from './min-max.ts';
export { gpuOrderStatistics, gpuQuantiles } from './quantiles.ts';

export const STATS_KERNELS: readonly Kernel[] = [
  axisMinMaxKernel, countAboveKernel, histogramKernel, minMaxKernel, radixHistogramKernel,
];
