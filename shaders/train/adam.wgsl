// adam.wgsl: one Adam step in place on a parameter tensor and its moments, as torch.optim.Adam
// (no weight decay, no amsgrad):
//   m ← m + (1 − β1)·(g − m)          v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / bias1) · m / (√v / √bias2 + eps),   bias1 = 1 − β1^t, bias2 = 1 − β2^t
//   then p ← max(p, lower) (lower = −3.4e38 by default: no bound; step sizes may ask for one).
// 1 − β1 and 1 − β2 are uniforms computed in float64 (torch passes them as `value`/`weight` scalars; f32(β2)
// subtracted from 1 in f32 would be 1.3e-5 off 0.001). The step t enters only through the uniforms bias1,
// bias2, which the host computes in float64 from t:
// β2^t in WGSL's pow (exp2(t·log2 β2)) would carry log2's absolute error 2^-21 near 1, 3e-4 relative for
// β2 = 0.999. So one pipeline serves every step and nothing is read back.
// Ownership: one element per thread, thread id = linear workgroup id · WG + local index.
// Bindings: 0 grad, 1 param, 2 m, 3 v, 4 params.

struct Params {
  count: u32,
  lr: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
  bias1: f32,
  bias2: f32,
  lower: f32,
}

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  let g = grad[i];
  let m1 = m[i] + params.one_minus_beta1 * (g - m[i]);
  let v1 = params.beta2 * v[i] + params.one_minus_beta2 * g * g;
  m[i] = m1;
  v[i] = v1;
  let denom = sqrt(v1) / sqrt(params.bias2) + params.eps;
  param[i] = max(param[i] - (params.lr / params.bias1) * m1 / denom, params.lower);
}
