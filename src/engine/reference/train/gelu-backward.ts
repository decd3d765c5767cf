/**
 * CPU twin of kernels/train/gelu-backward.ts: dX = dY · gelu'(x) for the two GELU forms of the matmul
 * epilogue (reference/erf.ts), given the pre-activation x; float64.
 */
import type { GeluForm } from '../../kernels/train/gelu-backward.ts';
import { erf } from '../erf.ts';

const INV_SQRT_2PI = 0.3989422804014327;
const TANH_C = 0.7978845608028654;  // √(2/π), as in geluTanh
const TANH_A = 0.044715;

/** d/dx of x·Φ(x) = Φ(x) + x·φ(x). */
export function geluErfGrad(x: number): number {
  return 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** d/dx of 0.5·x·(1 + tanh(u)), u = c·(x + a·x³). */
export function geluTanhGrad(x: number): number {
  const t = Math.tanh(TANH_C * (x + TANH_A * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * TANH_C * (1 + 3 * TANH_A * x * x);
}

export function geluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, form: GeluForm): Float64Array {
  const grad = form === 'gelu-erf' ? geluErfGrad : geluTanhGrad;
  return Float64Array.from({ length: x.length }, (_, i) => dy[i] * grad(x[i]));
}
