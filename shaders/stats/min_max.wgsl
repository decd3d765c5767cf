// min_max.wgsl: accumulates the min, the max and the NaN count of a whole tensor (any shape, `count`
// values) into acc = [min f32, max f32, nans u32]; the host initialises acc to [+inf, -inf, 0] once and
// records one dispatch per batch.
// Ownership: grid-stride; `groups` workgroups of WG threads each fold their values into order keys
// (below), reduce them with workgroup atomics, and thread 0 merges the workgroup's result into acc.
// NaNs are ignored and counted. -0 orders below +0 (the key order), so min(-0, +0) is -0 as in JS.
// Everything is done on bit patterns, never float compares: subnormals stay exact even on GPUs that
// flush them, and no compiler may assume NaNs away.
// Bindings: 0 x [count], 1 acc [3] (read as atomic u32 bit patterns), 2 params.

struct Params {
  count: u32,
  groups: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> acc: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;
var<workgroup> wg_min: atomic<u32>;
var<workgroup> wg_max: atomic<u32>;
var<workgroup> wg_nans: atomic<u32>;

// Monotonic u32 encoding of f32: unsigned order of keys == float order (flip all bits of negatives,
// set the sign bit of positives). key 0 and 0xffffffff are NaN patterns, never produced here.
fn key_of(bits: u32) -> u32 { return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u); }
fn bits_of(key: u32) -> u32 { return select(~key, key & 0x7fffffffu, (key & 0x80000000u) != 0u); }
fn is_nan(bits: u32) -> bool { return (bits & 0x7fffffffu) > 0x7f800000u; }

// acc holds plain f32 (so other kernels can read it), hence compare-and-swap instead of atomicMin.
fn merge_min(i: u32, key: u32) {
  var old = atomicLoad(&acc[i]);
  loop {
    if (key_of(old) <= key) { break; }
    let r = atomicCompareExchangeWeak(&acc[i], old, bits_of(key));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
fn merge_max(i: u32, key: u32) {
  var old = atomicLoad(&acc[i]);
  loop {
    if (key_of(old) >= key) { break; }
    let r = atomicCompareExchangeWeak(&acc[i], old, bits_of(key));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  if (li == 0u) { atomicStore(&wg_min, 0xffffffffu); }
  workgroupBarrier();

  var lo = 0xffffffffu;
  var hi = 0u;
  var nans = 0u;
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    let b = x[i];
    if (is_nan(b)) { nans += 1u; continue; }
    let k = key_of(b);
    lo = min(lo, k);
    hi = max(hi, k);
  }
  atomicMin(&wg_min, lo);
  atomicMax(&wg_max, hi);
  atomicAdd(&wg_nans, nans);
  workgroupBarrier();

  if (li == 0u) {
    let h = atomicLoad(&wg_max);
    if (h != 0u) {  // 0: this workgroup saw no number
      merge_min(0u, atomicLoad(&wg_min));
      merge_max(1u, h);
    }
    let n = atomicLoad(&wg_nans);
    if (n != 0u) { atomicAdd(&acc[2], n); }
  }
}
