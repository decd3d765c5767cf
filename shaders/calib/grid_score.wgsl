// grid_score.wgsl: the score of every candidate of the 2-D grid search (spec §2.3) on a histogram:
// score[c] = Σ_k count[k] · |v_k − x̂(v_k)|^2.4 over the non-empty bins k (v_k the bin mean), with
// x̂ the uniform fake quantizer of candidate c (Δ, z) = cands[c], exactly as calibration/
// grid-search-histogram.ts gridSearchFromBins (its uniformFq: correctly rounded x/Δ by round_quotient
// of shaders/common/exact_division.wgsl; x̂ behind `opaque` so v − x̂ rounds like the CPU's
// f32(v − f32(x̂))).
// |d|^2.4 = d²·|d|^0.4 with |d|^0.4 = 2^(2e/5)·m^0.4 for d = m·2^e: the exponent part from an exact
// table of 2^(r/5), so exp2/log2 only see arguments in [0, 1) (a few ULP instead of pow's error growing
// with |log2 d|). Sums are double-float (f32 pairs, error-free additions), so the score keeps ~1e-7
// relative accuracy however many bins it covers; the host adds the pair in f64.
// Ownership: one workgroup per candidate; its threads stride over the bins, then a tree reduction.
// Bindings: 0 values [bins] f32, 1 counts [bins] u32, 2 cands [ncand] vec2f, 3 scores [ncand] vec2f
// (high, low part), 4 params.

struct Params {
  bins: u32,
  ncand: u32,
  levels: u32,
  opaque: u32,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read> cands: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> scores: array<vec2f>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<vec2f, WG>;

fn opaque(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) ^ params.opaque); }

// |a|^2.4 for a >= 0 (0 below 2^-126, where the true value underflows f32 anyway).
fn pow24(a: f32) -> f32 {
  let b = bitcast<u32>(a);
  if (b >= 0x7f800000u) { return a; }
  if (b < 0x800000u) { return 0.0; }
  var fifths = array<f32, 5>(1.0, bitcast<f32>(0x3f93088cu), bitcast<f32>(0x3fa8e5a3u),
                             bitcast<f32>(0x3fc20300u), bitcast<f32>(0x3fdedc67u));  // f32(2^(r/5))
  let e = i32(b >> 23u) - 127;
  let m = bitcast<f32>((b & 0x7fffffu) | 0x3f800000u);  // a = m·2^e, m in [1, 2)
  let t = 2 * e;  // 0.4·e = t/5 = q + r/5
  var q = t / 5;
  if (t - 5 * q < 0) { q -= 1; }
  let r = t - 5 * q;
  let p = ldexp(fifths[r] * exp2(0.4 * log2(m)), q);
  return (a * a) * p;
}

// Double-float sum of two (high, low) pairs (TwoSum of the highs, then renormalised).
fn df_add(x: vec2f, y: vec2f) -> vec2f {
  let s = x.x + y.x;
  let bb = s - x.x;
  let err = (x.x - (s - bb)) + (y.x - bb);
  let lo = err + x.y + y.y;
  let hi = s + lo;
  return vec2f(hi, lo - (hi - s));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let c = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (c >= params.ncand) { return; }
  let d = cands[c].x;
  let z = cands[c].y;
  let top = f32(params.levels - 1u);
  let exact = bitcast<u32>(d) < 0x800000u;  // a subnormal Δ (the hardware may flush it): exact quotient
  var acc = vec2f(0.0);
  for (var k = li; k < params.bins; k += WG) {
    let v = values[k];
    let q = clamp(round_quotient(v, d, exact) + z, 0.0, top);
    let e = v - opaque((q - z) * d);
    acc = df_add(acc, vec2f(f32(counts[k]) * pow24(abs(e)), 0.0));
  }
  red[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = df_add(red[li], red[li + s]); }
    workgroupBarrier();
  }
  if (li == 0u) { scores[c] = red[0]; }
}
