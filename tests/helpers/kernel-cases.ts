/**
 * Kernel test cases as data, shared by the CPU-twin suite and the GPU suites. Sizes are deliberately not
 * tile multiples (1, 3, 50, 197 tokens; 96..768 wide) and kept small: lavapipe runs ~0.3 GFLOP/s.
 */
import type { Epilogue } from '../../src/engine/kernels/matmul.ts';
import type { Tolerance } from './all-close.ts';

export interface MatmulCase { m: number; k: number; n: number; epilogue: Epilogue; tol: Tolerance }
// Inputs are uniform in [-1, 1]: a K-term dot product has magnitude ~sqrt(K/9), float32 accumulation
// error a few 1e-6 at K = 768, so 1e-4 + 1e-4·|y| leaves wide margin while still catching indexing bugs.
const MM: Tolerance = { atol: 1e-4, rtol: 1e-4 };
export const MATMUL_CASES: MatmulCase[] = [
  { m: 1, k: 96, n: 96, epilogue: 'none', tol: MM },
  { m: 3, k: 192, n: 96, epilogue: 'gelu-erf', tol: MM },
  { m: 50, k: 384, n: 192, epilogue: 'gelu-tanh', tol: MM },
  { m: 197, k: 96, n: 384, epilogue: 'residual', tol: MM },
  { m: 394, k: 768, n: 96, epilogue: 'none', tol: MM },
  { m: 50, k: 192, n: 768, epilogue: 'gelu-erf', tol: MM },
  { m: 7, k: 5, n: 3, epilogue: 'none', tol: MM },
];

export interface LayerNormCase { rows: number; cols: number; offset: number; eps: number; tol: Tolerance }
// An offset of 100 makes one-pass E[x²]−E[x]² lose ~4 digits; the two-pass kernel must not.
export const LAYER_NORM_CASES: LayerNormCase[] = [
  { rows: 1, cols: 96, offset: 0, eps: 1e-6, tol: { atol: 2e-5, rtol: 1e-5 } },
  { rows: 3, cols: 192, offset: 100, eps: 1e-6, tol: { atol: 1e-4, rtol: 1e-4 } },
  { rows: 197, cols: 384, offset: 1, eps: 1e-5, tol: { atol: 2e-5, rtol: 1e-5 } },
  { rows: 50, cols: 768, offset: 0, eps: 1e-12, tol: { atol: 2e-5, rtol: 1e-5 } },
  { rows: 2, cols: 1000, offset: -3, eps: 1e-6, tol: { atol: 2e-5, rtol: 1e-5 } },
];

export interface AttentionCase { batch: number; tokens: number; heads: number; headDim: number; tol: Tolerance }
// q, k, v uniform in [-2, 2]: logits up to ~|hd|·4·scale, a sharp softmax, which is the hard case.
const ATT: Tolerance = { atol: 2e-5, rtol: 1e-4 };
export const ATTENTION_CASES: AttentionCase[] = [
  { batch: 1, tokens: 1, heads: 3, headDim: 32, tol: ATT },
  { batch: 2, tokens: 3, heads: 2, headDim: 24, tol: ATT },
  { batch: 1, tokens: 50, heads: 3, headDim: 64, tol: ATT },
  { batch: 2, tokens: 197, heads: 2, headDim: 16, tol: ATT },
  { batch: 1, tokens: 257, heads: 1, headDim: 96, tol: ATT },
];

export interface PatchEmbedCase {
  batch: number; channels: number; size: number; patch: number; dim: number; prefix: number; tol: Tolerance;
}
export const PATCH_EMBED_CASES: PatchEmbedCase[] = [
  { batch: 2, channels: 3, size: 32, patch: 16, dim: 96, prefix: 1, tol: MM },
  { batch: 1, channels: 3, size: 48, patch: 16, dim: 192, prefix: 2, tol: MM },
  { batch: 1, channels: 3, size: 224, patch: 16, dim: 96, prefix: 1, tol: MM },
  { batch: 1, channels: 1, size: 12, patch: 4, dim: 5, prefix: 1, tol: MM },
];

export interface PoolHeadCase { batch: number; tokens: number; dim: number; classes: number; dist: boolean; tol: Tolerance }
export const POOL_HEAD_CASES: PoolHeadCase[] = [
  { batch: 2, tokens: 5, dim: 96, classes: 10, dist: false, tol: MM },
  { batch: 3, tokens: 3, dim: 192, classes: 1000, dist: true, tol: MM },
  { batch: 1, tokens: 197, dim: 768, classes: 300, dist: false, tol: MM },
  { batch: 1, tokens: 2, dim: 384, classes: 1, dist: true, tol: MM },
];
