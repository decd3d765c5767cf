// layer_norm.wgsl: y[r, :] = (x[r, :] - mean) / sqrt(var + eps) · gamma + beta over the last dim.
// Ownership: one workgroup per row (linear workgroup id, folded over x/y/z by the host); its WG threads
// stride over the columns. Two passes over the row (mean, then the sum of squared deviations) with a
// shared-memory tree reduction each: no catastrophic cancellation, unlike E[x²] - E[x]².
// Entry `rows`: one THREAD per row, same two passes, no shared memory or barriers; CPU Vulkan drivers
// (lavapipe, SwiftShader) run it about ten times faster, GPUs want the workgroup-per-row entry.
// Bindings: 0 x [rows, cols], 1 gamma [cols], 2 beta [cols], 3 y [rows, cols], 4 params.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 128;  // must be a power of two (tree reduction)
var<workgroup> partial: array<f32, WG>;

// Sum of `v` over the workgroup; every thread gets the result.
fn workgroup_sum(v: f32, li: u32) -> f32 {
  partial[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();  // before anyone overwrites partial[] in the next reduction
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  let n = f32(params.cols);

  var s = 0.0;
  for (var c = li; c < params.cols; c += WG) { s += x[base + c]; }
  let mean = workgroup_sum(s, li) / n;

  var q = 0.0;
  for (var c = li; c < params.cols; c += WG) { let d = x[base + c] - mean; q += d * d; }
  let rstd = inverseSqrt(workgroup_sum(q, li) / n + params.eps);

  for (var c = li; c < params.cols; c += WG) {
    y[base + c] = (x[base + c] - mean) * rstd * gamma[c] + beta[c];
  }
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  let n = f32(params.cols);
  var s = 0.0;
  for (var c = 0u; c < params.cols; c++) { s += x[base + c]; }
  let mean = s / n;
  var q = 0.0;
  for (var c = 0u; c < params.cols; c++) { let d = x[base + c] - mean; q += d * d; }
  let rstd = inverseSqrt(q / n + params.eps);
  for (var c = 0u; c < params.cols; c++) {
    y[base + c] = (x[base + c] - mean) * rstd * gamma[c] + beta[c];
  }
}
