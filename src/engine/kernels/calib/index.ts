/** GPU kernels of the calibration searches (shaders/calib/): one wrapper per shader; drivers in calibration/gpu/. */
import type { Kernel } from '../../gpu/kernel.ts';
import { binSumsKernel } from './bin-sums.ts';
import { gridScoreKernel } from './grid-score.ts';
import { quantErrorKernel } from './quant-error.ts';
import { segmentMseKernel } from './segment-mse.ts';
import { segmentRadixKernel } from './segment-radix.ts';
import { slqShiftKernel } from './slq-shift.ts';

export { binSums, binSumsInit, readBinSums, sumExponent, MAX_SUM_BINS, type BinSums, type BinSumsAcc } from './bin-sums.ts';
export { gridScore } from './grid-score.ts';
export { quantError, quantErrorGroups } from './quant-error.ts';
export { mseChunks, segmentMse, MSE_CHUNK, MSE_LANES, type SegmentMseOptions } from './segment-mse.ts';
export { segmentRadixCount, segmentRadixSelect, SEGMENT_DIGITS, SEGMENT_PASSES, type SegmentSelect } from './segment-radix.ts';
export { slqShift } from './slq-shift.ts';

export const CALIB_KERNELS: readonly Kernel[] = [
  binSumsKernel, gridScoreKernel, quantErrorKernel, segmentMseKernel, segmentRadixKernel, slqShiftKernel,
];
