// count_above.wgsl: accumulates, for up to 8 thresholds t_j >= 0, how many values of a whole tensor have
// |x| > t_j into counts [8] u32 (the host zeroes it once, then records one dispatch per batch).
// The compare is on bit patterns: for non-negative floats (|x| clears the sign bit; the host passes
// each t_j's bits) unsigned order is float order, so subnormals count exactly even on GPUs that flush
// them to zero. NaNs are never counted (their |bits| exceed +inf's, so they are skipped explicitly).
// Ownership: grid-stride, `groups` workgroups of WG threads; per-thread counts, a workgroup-atomic sum,
// and one global atomicAdd per threshold per workgroup.
// Bindings: 0 x [count], 1 counts [8], 2 params.

struct Params {
  count: u32,
  groups: u32,
  thresholds: u32,
  t0: u32,
  t1: u32,
  t2: u32,
  t3: u32,
  t4: u32,
  t5: u32,
  t6: u32,
  t7: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;
var<workgroup> wg_counts: array<atomic<u32>, 8>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  let t = array<u32, 8>(params.t0, params.t1, params.t2, params.t3, params.t4, params.t5, params.t6, params.t7);
  var n = array<u32, 8>();
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    let a = x[i] & 0x7fffffffu;
    if (a > 0x7f800000u) { continue; }  // NaN
    for (var j = 0u; j < 8u; j++) { n[j] += select(0u, 1u, a > t[j]); }
  }
  for (var j = 0u; j < params.thresholds; j++) { atomicAdd(&wg_counts[j], n[j]); }
  workgroupBarrier();
  if (li < params.thresholds) {
    let c = atomicLoad(&wg_counts[li]);
    if (c != 0u) { atomicAdd(&counts[li], c); }
  }
}
