// sum_partials.wgsl: deterministic second pass of the train kernels' reductions. Sums a block of
// per-workgroup partial sums into `entries` results:
//   out[offset + j] (+)= Σ_t partials[base + j + entries·t]   over j + entries·t < count
// (partials of entry j interleave with stride `entries`: per-token step sizes, or the (Σ ∂L/∂m, ties)
// pairs of log_quant_backward). accumulate = 1 adds to out (gradients summed over mini-batch chunks;
// losses written into a history buffer at offset = step).
// Ownership: one workgroup per entry j (linear workgroup id); its threads stride over t, then a tree sum
// in workgroup memory, so the order of additions is fixed. f32 throughout.
// Bindings: 0 partials, 1 out, 2 params.

struct Params {
  base: u32,
  count: u32,
  entries: u32,
  offset: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let j = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (j >= params.entries) { return; }  // whole workgroup: uniform
  var acc = 0.0;
  for (var t = j + li * params.entries; t < params.count; t += WG * params.entries) {
    acc += partials[params.base + t];
  }
  red[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    let o = params.offset + j;
    out[o] = select(0.0, out[o], params.accumulate != 0u) + red[0];
  }
}
