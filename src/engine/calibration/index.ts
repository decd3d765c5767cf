/** CPU references of the ADFQ calibration searches (percentile-MSE, PPOQ per token, SLQ, 2-D grid search). */
export { roundHalfEven, fmaF32 } from './f32.ts';
export { torchQuantile, sortedF32, lowerLevel } from './torch-quantile.ts';
export { uniformFq, rangeToUniform, logSqrt2Code, logSqrt2Level, logSqrt2Fq, meanSquaredError } from './fake-quant-f32.ts';
export * from './percentile-mse.ts';
export * from './per-group.ts';
export * from './grid-search.ts';
export * from './grid-search-histogram.ts';
