// softmax_backward.wgsl: the gradient of a row softmax P = softmax(S) w.r.t. its input, per row:
//   dS[r, j] = P[r, j] · (dP[r, j] − Σ_l dP[r, l] · P[r, l])
// over `rows` rows of `cols` values (attention: rows = B·H·N query rows, cols = N keys).
// Ownership: one row per thread (thread id = linear workgroup id · WG + local index), two passes over it;
// no shared memory, no barriers. attention_backward.wgsl fuses the same formula into its scores_grad.
// Bindings: 0 probs, 1 dprobs, 2 dscores, 3 params.

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> dprobs: array<f32>;
@group(0) @binding(2) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  var dot = 0.0;
  for (var j = 0u; j < params.cols; j++) { dot = fma(dprobs[base + j], probs[base + j], dot); }
  for (var j = 0u; j < params.cols; j++) { dscores[base + j] = probs[base + j] * (dprobs[base + j] - dot); }
}
