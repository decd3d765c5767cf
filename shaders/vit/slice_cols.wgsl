// slice_cols.wgsl: y[r, c] = x[r, offset + c] for c < cols: a contiguous copy of a column window, e.g.
// q, k or v out of the fused qkv matrix, so statistics kernels see them as plain [rows, cols] tensors.
// Ownership: one thread per output element; linear workgroup id folded over x/y/z by the host.
// Bindings: 0 x [rows, width], 1 y [rows, cols], 2 params.

struct Params {
  rows: u32,
  width: u32,
  offset: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols;
  let c = i % params.cols;
  y[i] = x[r * params.width + params.offset + c];
}
