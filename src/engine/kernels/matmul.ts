/** Linear layer on the GPU: Y = X·W + b with an optional fused GELU or residual add (shaders/vit/matmul.wgsl). */
import erf from '../../../shaders/common/erf.wgsl?raw';
import src from '../../../shaders/vit/matmul.wgsl?raw';
import { ShapeError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { Kernel } from '../gpu/kernel.ts';
import { allocTensor, expectShape, type GpuTensor } from '../gpu/tensor.ts';

export const matmulKernel = new Kernel({
  name: 'matmul',
  code: src,
  libs: [erf],
  bindings: [
    { name: 'x', kind: 'read' }, { name: 'w', kind: 'read' }, { name: 'bias', kind: 'read' },
    { name: 'residual', kind: 'read' }, { name: 'y', kind: 'read_write' },
  ],
  params: [['m', 'u32'], ['n', 'u32'], ['k', 'u32']],
});

export type Epilogue = 'none' | 'gelu-erf' | 'gelu-tanh' | 'residual';
const EPILOGUE_CODE: Record<Epilogue, number> = { none: 0, 'gelu-erf': 1, 'gelu-tanh': 2, residual: 3 };

/**
 * Workgroup shape. `tiled` (shared memory; tile 4·wgY rows × 4·wgX columns; 16×16 suits desktop GPUs)
 * or `rows` (no shared memory; 8·wgY rows × 4·wgX columns), which CPU Vulkan drivers run 3-5× faster.
 */
export interface MatmulTiling { variant?: 'tiled' | 'rows'; wgX: number; wgY: number; tileK: number }
export const DEFAULT_TILING: MatmulTiling = { variant: 'tiled', wgX: 16, wgY: 16, tileK: 16 };
export const SOFTWARE_TILING: MatmulTiling = { variant: 'rows', wgX: 8, wgY: 8, tileK: 16 };

/** The tiling this device runs best, until tuned per GPU: see tools/bench and ARCHITECTURE.md. */
export const defaultTiling = (ctx: GpuContext): MatmulTiling => (ctx.isSoftware ? SOFTWARE_TILING : DEFAULT_TILING);

export interface MatmulOptions {
  epilogue?: Epilogue;
  /** Required for epilogue 'residual': R[M, N], added after the bias. Must not be `out`. */
  residual?: GpuTensor;
  /** Write here instead of a fresh pooled tensor. */
  out?: GpuTensor;
  tiling?: MatmulTiling;
}

/** Records Y[M,N] = X[M,K]·W[K,N] + bias[N] (+ epilogue) on `encoder`; returns Y. */
export function matmul(ctx: GpuContext, encoder: GPUCommandEncoder, x: GpuTensor, w: GpuTensor, bias: GpuTensor,
                       options: MatmulOptions = {}): GpuTensor {
  const s = expectShape('matmul', 'x', x, ['M', 'K']);
  expectShape('matmul', 'w', w, ['K', 'N'], s);
  expectShape('matmul', 'bias', bias, ['N'], s);
  const epilogue = options.epilogue ?? 'none';
  if ((epilogue === 'residual') !== (options.residual !== undefined)) {
    throw new ShapeError('matmul: pass a residual tensor exactly when the epilogue is "residual".');
  }
  if (options.residual) expectShape('matmul', 'residual', options.residual, ['M', 'N'], s);
  const y = options.out ?? allocTensor(ctx, [s.M, s.N], 'matmul.y');
  expectShape('matmul', 'out', y, ['M', 'N'], s);
  if (options.residual?.buffer === y.buffer) throw new ShapeError('matmul: the residual cannot also be the output; use another buffer.');
  const t = options.tiling ?? defaultTiling(ctx);
  const rowsPerGroup = (t.variant === 'rows' ? 8 : 4) * t.wgY;
  const tiles = Math.ceil(s.M / rowsPerGroup) * Math.ceil(s.N / (4 * t.wgX));
  matmulKernel.run(ctx, encoder, {
    entry: t.variant === 'rows' ? 'main_rows' : 'main',
    overrides: { WG_X: t.wgX, WG_Y: t.wgY, TILE_K: t.tileK, EPILOGUE: EPILOGUE_CODE[epilogue] },
    buffers: [x.buffer, w.buffer, bias.buffer, (options.residual ?? bias).buffer, y.buffer],
    params: { m: s.M, n: s.N, k: s.K },
    workgroups: tiles,
  });
  return y;
}
