// quant_error.wgsl: the quantization error of a tensor against its fake-quantized copy, for reporting:
// partials[base + g] = (Σ (x − x̂)², Σ x²) over the values of workgroup g, in f32 (the host adds the
// partials in f64 and divides). Ownership: grid-stride, `groups` workgroups of WG threads (about 16
// values per thread), then a tree reduction; one dispatch per tensor pair, each at its own `base`.
// Bindings: 0 x [count], 1 xq [count], 2 partials [base + groups] vec2f, 3 params.

struct Params {
  count: u32,
  groups: u32,
  base: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> xq: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec2f>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<vec2f, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  var acc = vec2f(0.0);
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    let v = x[i];
    let e = v - xq[i];
    acc += vec2f(e * e, v * v);
  }
  red[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[params.base + group] = red[0]; }
}
