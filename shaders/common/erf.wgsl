// erf.wgsl: shared function (no bindings, no entry points): erf in float32, used by both sides of the
// exact GELU so the forward and its gradient use one formula.
// Provides: erf_f32. Used by (listed in their wrappers' `libs`): vit/matmul (GELU epilogue),
// train/gelu_backward.

// A rational approximation on [-4, 4] (Eigen's float erf); max abs error ~4e-7 near |x| = 3.3,
// far better relative accuracy near 0. Beyond |x| = 4, erf is ±1 in float32.
fn erf_f32(v: f32) -> f32 {
  let x = clamp(v, -4.0, 4.0);
  let x2 = x * x;
  var p = -2.72614225801306e-10;
  p = fma(p, x2, 2.77068142495902e-08);
  p = fma(p, x2, -2.10102402082508e-06);
  p = fma(p, x2, -5.69250639462346e-05);
  p = fma(p, x2, -7.34990630326855e-04);
  p = fma(p, x2, -2.95459980854025e-03);
  p = fma(p, x2, -1.60960333262415e-02);
  var q = -1.45660718464996e-05;
  q = fma(q, x2, -2.13374055278905e-04);
  q = fma(q, x2, -1.68282697438203e-03);
  q = fma(q, x2, -7.37332916720468e-03);
  q = fma(q, x2, -1.42647390514189e-02);
  return x * p / q;
}
