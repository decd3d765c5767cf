// histogram.wgsl: accumulates an equal-width histogram of a whole tensor (`count` values) into
// counts [bins + 3] u32: counts[0..bins) the bins over [lo, hi], counts[bins] x < lo, counts[bins+1]
// x > hi, counts[bins+2] NaNs. The host zeroes counts once and records one dispatch per batch.
// Bin of lo <= x <= hi: min(u32(floor((x - lo) * scale)), bins - 1) with scale = f32(bins / (hi - lo))
// computed by the host (so x == hi lands in the last bin). One f32 subtract and one f32 multiply, both
// correctly rounded in WGSL/Vulkan, so the CPU twin (Math.fround at each step) matches bit for bit.
// Ownership: grid-stride, `groups` workgroups of WG threads.
//   entry `shared_bins` (bins + 3 <= SHARED_BINS): workgroup-private atomic bins, flushed once per
//     workgroup into counts (adds only non-zero bins);
//   entry `global_bins` (up to 65,536 bins): atomicAdd straight into counts.
// Bindings: 0 x [count], 1 counts [bins + 3], 2 params.

struct Params {
  count: u32,
  groups: u32,
  bins: u32,
  lo: f32,
  hi: f32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;
override SHARED_BINS: u32 = 2048;  // 8 KiB of workgroup memory: fits every device's 16 KiB minimum
var<workgroup> local_bins: array<atomic<u32>, SHARED_BINS>;  // zero-initialised by WGSL

// NaN is tested on the bit pattern: a compiler may assume float compares never see NaN.
fn bin_of(v: f32) -> u32 {
  if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { return params.bins + 2u; }
  if (v < params.lo) { return params.bins; }
  if (v > params.hi) { return params.bins + 1u; }
  return min(u32(floor((v - params.lo) * params.scale)), params.bins - 1u);
}

@compute @workgroup_size(WG)
fn shared_bins(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    atomicAdd(&local_bins[bin_of(x[i])], 1u);
  }
  workgroupBarrier();
  for (var b = li; b < params.bins + 3u; b += WG) {
    let n = atomicLoad(&local_bins[b]);
    if (n != 0u) { atomicAdd(&counts[b], n); }
  }
}

@compute @workgroup_size(WG)
fn global_bins(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    atomicAdd(&counts[bin_of(x[i])], 1u);
  }
}
