/**
 * Scores of all grid-search candidates on a histogram's bins, one workgroup per candidate
 * (shaders/calib/grid_score.wgsl). Twin: calibration/grid-search-histogram.ts gridSearchFromBins.
 */
import src from '../../../../shaders/calib/grid_score.wgsl?raw';
import exactDivision from '../../../../shaders/common/exact_division.wgsl?raw';
import type { GpuContext } from '../../gpu/device.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../../gpu/tensor.ts';

export const gridScoreKernel = new Kernel({
  name: 'grid_score',
  code: src,
  libs: [exactDivision],
  bindings: [{ name: 'values', kind: 'read' }, { name: 'counts', kind: 'read' }, { name: 'cands', kind: 'read' },
    { name: 'scores', kind: 'read_write' }],
  params: [['bins', 'u32'], ['ncand', 'u32'], ['levels', 'u32'], ['opaque', 'u32']],
});

const WG = 256;

/**
 * Records scores [ncand·2] (f32 high and low parts of Σ count·|v − x̂|^2.4) for values [bins] f32,
 * counts [bins] u32 and cands [ncand·2] (Δ, z); returns the scores tensor (the caller releases it).
 */
export function gridScore(ctx: GpuContext, encoder: GPUCommandEncoder, values: GpuTensor, counts: GpuTensor, cands: GpuTensor,
                          levels: number): GpuTensor {
  const { bins } = expectShape('grid_score', 'values', values, ['bins']);
  expectShape('grid_score', 'counts', counts, [bins]);
  const { ncand } = expectShape('grid_score', 'cands', cands, ['ncand', 2]);
  const scores = allocTensor(ctx, [ncand, 2], 'grid_score.scores');
  gridScoreKernel.run(ctx, encoder, {
    overrides: { WG }, buffers: [values.buffer, counts.buffer, cands.buffer, scores.buffer],
    params: { bins, ncand, levels, opaque: 0 }, workgroups: ncand,
  });
  return scores;
}
