/**
 * The calibration searches on data that stays on the GPU, each equal to its CPU twin in calibration/
 * (README.md there: what runs where, and the precision of each part). All take one tensor or several
 * (batch chunks, statistics over all of them as if concatenated), submit their own command buffers,
 * release every temporary buffer and leave the inputs alone.
 */
export { gpuPercentileMseLogSqrt2, gpuPercentileMseSlqConst, gpuPercentileMseUniform } from './percentile-mse.ts';
export { gpuPercentileMsePerColumn, gpuPercentileMsePerToken } from './per-group.ts';
export { gpuBinSummary, gpuGridScores, gpuGridSearch } from './grid-search.ts';
export { gpuQuantError, type QuantError } from './quant-error.ts';
export { gpuSegmentedOrderStatistics, type SegmentedResult, type SegmentedSpec } from './segmented-select.ts';
export { gpuCandidateSse, type CandidateSet } from './candidate-mse.ts';
export type { Tensors } from './inputs.ts';
