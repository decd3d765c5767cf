// add.wgsl: y[i] = a[i] + b[i] (the residual connection when it is not fused into matmul).
// Ownership: one thread per element; linear workgroup id folded over x/y/z by the host.
// Bindings: 0 a, 1 b, 2 y (must not alias a or b), 3 params.

struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i < params.count) { y[i] = a[i] + b[i]; }
}
