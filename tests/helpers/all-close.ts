/**
 * allClose for test oracles: |actual - expected| <= atol + rtol·|expected| elementwise (numpy's rule).
 * On failure the message names the worst element (index, both values, its excess over the bound) and
 * how many elements failed, so one look tells a tiling bug (a block of rows) from rounding (one ulp).
 */
export interface Tolerance { atol: number; rtol: number }

export interface CloseReport { ok: boolean; failures: number; worstIndex: number; worstExcess: number; message: string }

export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): CloseReport {
  if (actual.length !== expected.length) {
    return { ok: false, failures: -1, worstIndex: -1, worstExcess: Infinity, message: `length ${actual.length} != expected ${expected.length}` };
  }
  let failures = 0, worstIndex = -1, worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    // NaN anywhere, or an infinity that does not match, is an infinite excess.
    const excess = Number.isNaN(a) || Number.isNaN(e) ? Infinity
      : a === e ? -tol.atol : Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (excess > 0) failures++;
    if (excess > worstExcess) { worstExcess = excess; worstIndex = i; }
  }
  const ok = failures === 0;
  const w = worstIndex;
  const message = w < 0 ? 'empty' : `${ok ? 'ok' : `${failures}/${actual.length} elements out of tolerance`}; worst at [${w}]: `
    + `actual ${actual[w]}, expected ${expected[w]}, |diff| ${Math.abs(actual[w] - expected[w]).toExponential(3)} `
    + `(atol ${tol.atol}, rtol ${tol.rtol})`;
  return { ok, failures, worstIndex, worstExcess, message };
}

/** Throws with compareClose's message when any element is out of tolerance. */
export function allClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = 'values'): void {
  const r = compareClose(actual, expected, tol);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
}

/** Deterministic uniform values in [lo, hi) (mulberry32), so failures reproduce. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}
