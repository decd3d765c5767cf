/**
 * erf in float64 (CPU twin of the shaders' float32 erf), and the two GELU variants.
 * |x| < 2.5: Maclaurin series (terms peak near 1e2 at x = 2.5, so ~1e-14 absolute error);
 * otherwise the continued fraction for erfc (Lentz), which converges fast for large |x|.
 */
const TWO_OVER_SQRT_PI = 1.1283791670955126;

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
  let f = ax, c = ax, d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d; d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** GELU as in PyTorch's default (approximate='none'): x·Φ(x). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}

/** GELU with the tanh approximation (PyTorch approximate='tanh'). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}
