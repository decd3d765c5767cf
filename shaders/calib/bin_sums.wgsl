// bin_sums.wgsl: a histogram of `bins` equal bins over [lo, hi] (the data's own min and max) that also
// sums the values of each bin exactly, so the grid search (spec §2.3, histogram form) can stand each
// bin's values at their mean. acc[4b] counts bin b; acc[4b+1..4b+3] hold Σ x/2^qexp as a 96-bit two's
// complement integer (little-endian words). Each value is converted exactly to the fixed point
// round(|x|/2^qexp) (integer operations on its bits, no float op) and added word by word with carries,
// so the sums are exact and independent of the order of the atomics. The host picks qexp so that
// |x| < 2^(qexp + 62): up to 2^32 values per bin fit in 95 bits, and the rounding is below 2^-62·max|x|.
// Bin of x: min(u32(floor((x − lo)·scale)), bins − 1) with the host's f32 scale (reference/stats/
// histogram.ts binOf, as shaders/stats/histogram.wgsl); values outside [lo, hi] and NaNs are skipped.
// Ownership: grid-stride, `groups` workgroups of WG threads, global atomics; one dispatch per tensor,
// the host zeroes acc once.
// Bindings: 0 x [count], 1 acc [bins·4] u32, 2 params.

struct Params {
  count: u32,
  groups: u32,
  bins: u32,
  lo: f32,
  hi: f32,
  scale: f32,
  qexp: i32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;

// The 96-bit two's complement words of round(x / 2^qexp) for finite x given as bits.
fn fixed_of(b: u32) -> vec3u {
  let ex = i32((b >> 23u) & 0xffu);
  var m = b & 0x7fffffu;
  var e = -126;
  if (ex != 0) { m |= 0x800000u; e = ex - 127; }
  let sh = e - 23 - params.qexp;  // |x| / 2^qexp = m · 2^sh, sh <= 38
  var w = vec3u(0u);
  if (sh >= 32) {
    w.y = m << u32(sh - 32);
  } else if (sh > 0) {
    w.x = m << u32(sh);
    w.y = m >> u32(32 - sh);
  } else if (sh == 0) {
    w.x = m;
  } else if (sh > -32) {
    let r = u32(-sh);
    w.x = (m >> r) + ((m >> (r - 1u)) & 1u);  // round half up
  }
  if ((b & 0x80000000u) != 0u && (w.x | w.y) != 0u) {  // negate: ~w + 1
    w = ~w;
    w.x += 1u;
    let c0 = select(0u, 1u, w.x == 0u);
    w.y += c0;
    w.z += select(0u, 1u, c0 == 1u && w.y == 0u);
  }
  return w;
}

// acc[i..i+3) += w (mod 2^96), carrying from the value each atomic returned.
fn add96(i: u32, w: vec3u) {
  var carry = 0u;
  if (w.x != 0u) {
    let old = atomicAdd(&acc[i], w.x);
    carry = select(0u, 1u, old + w.x < old);
  }
  let a1 = w.y + carry;
  var carry1 = select(0u, 1u, a1 < w.y);
  if (a1 != 0u) {
    let old = atomicAdd(&acc[i + 1u], a1);
    carry1 += select(0u, 1u, old + a1 < old);
  }
  let a2 = w.z + carry1;
  if (a2 != 0u) { atomicAdd(&acc[i + 2u], a2); }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.groups) { return; }
  for (var i = group * WG + li; i < params.count; i += params.groups * WG) {
    let v = x[i];
    let b = bitcast<u32>(v);
    if ((b & 0x7fffffffu) > 0x7f800000u || v < params.lo || v > params.hi) { continue; }
    let bin = min(u32(floor((v - params.lo) * params.scale)), params.bins - 1u);
    atomicAdd(&acc[4u * bin], 1u);
    add96(4u * bin + 1u, fixed_of(b));
  }
}
