/**
 * Finite-difference checks for the backward twins (STYLE habit 7): central differences of a float64 loss,
 * and the worst per-element relative error against an analytic gradient.
 */
export interface GradReport { worst: number; index: number; message: string }

/** ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h with h = relStep·max(|x_i|, 1), for every i. */
export function numericGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, relStep = 1e-4): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i], h = relStep * Math.max(Math.abs(v), 1);
    x[i] = v + h; const up = f(x);
    x[i] = v - h; const down = f(x);
    x[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/**
 * Worst |numeric − analytic| / max(|numeric|, |analytic|, floor·max|analytic|) over the elements: relative
 * per element, with a floor so that entries that are zero up to rounding (say 1e-17) do not count as 100 %.
 */
export function gradError(numeric: ArrayLike<number>, analytic: ArrayLike<number>, floor = 1e-6): GradReport {
  if (numeric.length !== analytic.length) return { worst: Infinity, index: -1, message: `length ${numeric.length} != ${analytic.length}` };
  let scale = 0;
  for (let i = 0; i < analytic.length; i++) scale = Math.max(scale, Math.abs(analytic[i]));
  let worst = 0, index = -1;
  for (let i = 0; i < numeric.length; i++) {
    const d = Math.abs(numeric[i] - analytic[i]);
    const e = d === 0 ? 0 : d / Math.max(Math.abs(numeric[i]), Math.abs(analytic[i]), floor * scale, Number.MIN_VALUE);
    if (!(e <= worst)) { worst = e; index = i; }
  }
  const message = index < 0 ? 'exact' : `worst relative error ${worst.toExponential(2)} at [${index}]: numeric ${numeric[index]}, analytic ${analytic[index]}`;
  return { worst, index, message };
}

/** Throws when the worst relative error exceeds `maxRel`; returns the report (tests print the worst). */
export function expectGradClose(numeric: ArrayLike<number>, analytic: ArrayLike<number>, what: string, maxRel = 1e-5): GradReport {
  const r = gradError(numeric, analytic);
  if (!(r.worst < maxRel)) throw new Error(`${what}: ${r.message} (limit ${maxRel})`);
  return r;
}

/** Σ a_i·b_i in float64: a scalar loss L = Σ y·G whose gradient w.r.t. y is G. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Largest |actual − expected| and largest |actual − expected| / |expected| (over nonzero expected). */
export function worstDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0, rel = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    abs = Math.max(abs, d);
    if (expected[i] !== 0) rel = Math.max(rel, d / Math.abs(expected[i]));
  }
  return { abs, rel };
}

/** Row-wise softmax in float64 (max-subtracted), the FP reference for probabilities in gradient tests. */
export function softmaxRows(x: Float32Array, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += cols) {
    let max = -Infinity, sum = 0;
    for (let j = 0; j < cols; j++) max = Math.max(max, x[o + j]);
    for (let j = 0; j < cols; j++) sum += (out[o + j] = Math.exp(x[o + j] - max));
    for (let j = 0; j < cols; j++) out[o + j] /= sum;
  }
  return out;
}
