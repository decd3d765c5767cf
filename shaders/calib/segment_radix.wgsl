// segment_radix.wgsl: exact order statistics of many value sets at once (one set per segment), by a
// radix select with 8-bit digits on the monotonic u32 keys of the f32 values (unsigned key order ==
// float order, -0 < +0). Element i of a tensor belongs to segment (i / inner) % segments: PPOQ token
// positions of [B, N, C] (inner C, segments N), weight columns of [rows, cols] (inner 1, segments cols).
// Each segment looks for `slots` ranks; state[2·(seg·slots + r)] holds the key prefix found so far and
// state[2·(..) + 1] the rank still wanted among the keys with that prefix. Four passes, top digit first:
//   entry `count`: counts[(seg·slots + r)·256 + digit] += 1 for every value whose key matches slot r's
//     prefix under `mask`; digit = (key >> shift) & 255. Pass 0 (mask 0) counts slot 0 only
//     (pass_slots 1): every slot of a segment shares that histogram. With tally != 0 it also counts
//     PPOQ outliers per segment into tallies[seg] and NaNs (skipped) into tallies[segments];
//   entry `select`: one thread per (segment, slot) scans its 256 counts, appends the digit holding its
//     rank to the prefix and subtracts the counts below it; a rank past the counts sets rest to
//     0xffffffff (only possible when NaNs were skipped), which later passes keep.
// After pass 3 the prefix is the exact key of the wanted order statistic.
// PPOQ: a value with |x| > tau (tau_bits = bits of f32 τ compared as i32 with |x|'s bits; −1 makes
// every value an outlier, 0x7f800000 none) takes part as +0. NaNs never take part.
// Ownership: `count` grid-stride, `groups` workgroups of WG threads, global atomics; `select` one thread
// per (segment, slot). The host zeroes counts before each pass and tallies once; one `count` dispatch
// per tensor, so the sets may span several batch tensors.
// Bindings: 0 x [count], 1 counts [segments·slots·256] u32, 2 state [segments·slots·2] u32,
// 3 tallies [segments + 1] u32, 4 params.

struct Params {
  count: u32,
  groups: u32,
  inner: u32,
  segments: u32,
  slots: u32,
  pass_slots: u32,
  shift: u32,
  mask: u32,
  tau_bits: i32,
  tally: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> tallies: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256;

fn key_of(bits: u32) -> u32 { return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u); }

@compute @workgroup_size(WG)
fn count(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    var b = x[i];
    if ((b & 0x7fffffffu) > 0x7f800000u) {  // NaN
      if (params.tally != 0u) { atomicAdd(&tallies[params.segments], 1u); }
      continue;
    }
    let seg = (i / params.inner) % params.segments;
    if (i32(b & 0x7fffffffu) > params.tau_bits) {
      b = 0u;
      if (params.tally != 0u) { atomicAdd(&tallies[seg], 1u); }
    }
    let k = key_of(b);
    let digit = (k >> params.shift) & 0xffu;
    let base = seg * params.slots;
    for (var r = 0u; r < params.pass_slots; r++) {
      if ((k & params.mask) == state[2u * (base + r)]) { atomicAdd(&counts[(base + r) * 256u + digit], 1u); }
    }
  }
}

@compute @workgroup_size(WG)
fn select_digit(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) li: u32) {
  let j = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (j >= params.segments * params.slots) { return; }
  var rest = state[2u * j + 1u];
  if (rest == 0xffffffffu) { return; }
  // Pass 0 counted slot 0 of each segment only.
  let src = select(j, (j / params.slots) * params.slots, params.pass_slots == 1u);
  for (var d = 0u; d < 256u; d++) {
    let c = atomicLoad(&counts[src * 256u + d]);
    if (rest < c) {
      state[2u * j] |= d << params.shift;
      state[2u * j + 1u] = rest;
      return;
    }
    rest -= c;
  }
  state[2u * j + 1u] = 0xffffffffu;
}
