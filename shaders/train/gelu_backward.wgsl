// gelu_backward.wgsl: dX = dY · gelu'(x) given the pre-activation x (the matmul's X·W + b before its GELU
// epilogue), for the two forms of matmul.wgsl's EPILOGUE:
//   gelu_erf_backward:  gelu'(x) = Φ(x) + x·φ(x) = 0.5·(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π)
//   gelu_tanh_backward: u = c·(x + a·x³), t = tanh(u):  gelu'(x) = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²)
// Ownership: one element per thread, thread id = linear workgroup id · WG + local index.
// Bindings: 0 x (pre-activation), 1 dy, 2 dx, 3 params.

struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256;

// The erf of matmul.wgsl (Eigen's float erf on [-4, 4]), copied so both sides of GELU use one formula.
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

fn element(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
}

@compute @workgroup_size(WG)
fn gelu_erf_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) li: u32) {
  let e = element(wid, nwg, li);
  if (e >= params.count) { return; }
  let v = x[e];
  let g = 0.5 * (1.0 + erf_f32(v * 0.70710678118654752)) + v * 0.3989422804014327 * exp(-0.5 * v * v);
  dx[e] = dy[e] * g;
}

@compute @workgroup_size(WG)
fn gelu_tanh_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) li: u32) {
  let e = element(wid, nwg, li);
  if (e >= params.count) { return; }
  let v = x[e];
  let c = 0.7978845608028654;
  // The forward's clamp: past |u| = 10, tanh is ±1 in float32 and 1 − t² is 0 either way.
  let t = tanh(clamp(c * (v + 0.044715 * v * v * v), -10.0, 10.0));
  let g = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * v * v);
  dx[e] = dy[e] * g;
}
