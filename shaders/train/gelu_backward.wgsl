// gelu_backward.wgsl: dX = dY · gelu'(x) given the pre-activation x (the matmul's X·W + b before its GELU
// epilogue), for the two forms of matmul.wgsl's EPILOGUE:
//   gelu_erf_backward:  gelu'(x) = Φ(x) + x·φ(x) = 0.5·(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π)
//   gelu_tanh_backward: u = c·(x + a·x³), t = tanh(u):  gelu'(x) = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²),
//                       with 1 + t and 1 − t² formed from exp(−2|u|) so the tails keep their relative precision
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

// erf_f32: shaders/common/erf.wgsl (listed in the wrapper's libs), the same as the forward's.

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
  let u = c * (v + 0.044715 * v * v * v);
  // With q = exp(−2|u|): 1 + t = 2q/(1 + q) for u < 0 (2 − that for u ≥ 0) and 1 − t² = 4q/(1 + q)²,
  // accurate in the tails where 1 + tanh(u) and 1 − tanh(u)² would cancel.
  let q = exp(-2.0 * min(abs(u), 60.0));  // exp(−120) is 0 in f32: no inf reaches exp
  let low = 2.0 * q / (1.0 + q);
  let one_plus_t = select(low, 2.0 - low, u >= 0.0);
  let one_minus_t2 = low * 2.0 / (1.0 + q);
  let g = 0.5 * one_plus_t + 0.5 * v * one_minus_t2 * c * (1.0 + 3.0 * 0.044715 * v * v);
  dx[e] = dy[e] * g;
}
