// radix_histogram.wgsl: one pass of an exact radix select. Counts, into counts [65536] u32, the 16-bit
// digit (key >> shift) & 0xffff of every non-NaN value whose key matches (key & prefix_mask) == prefix,
// where key is the monotonic u32 encoding of the f32 (unsigned key order == float order, -0 < +0).
// Pass 1 (shift 16, mask 0) histograms the top digit; pass 2 (shift 0, mask 0xffff0000, prefix = the
// top digit holding the wanted rank) the low digit, which pins one exact f32. The host zeroes counts
// and records one dispatch per tensor (so a select can span several batch tensors).
// Ownership: grid-stride, `groups` workgroups of WG threads; global atomics (64K bins fit no workgroup).
// Bindings: 0 x [count], 1 counts [65536], 2 params.

struct Params {
  count: u32,
  groups: u32,
  shift: u32,
  prefix_mask: u32,
  prefix: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;

fn key_of(bits: u32) -> u32 { return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u); }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    let b = x[i];
    if ((b & 0x7fffffffu) > 0x7f800000u) { continue; }  // NaN
    let k = key_of(b);
    if ((k & params.prefix_mask) == params.prefix) { atomicAdd(&counts[(k >> params.shift) & 0xffffu], 1u); }
  }
}
