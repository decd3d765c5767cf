// segment_mse.wgsl: squared fake-quantization error of up to 4 candidate quantizers per segment, summed
// in f32 per workgroup (the host adds the partial sums in f64): the scores of the percentile-MSE
// searches (spec §2.2) per tensor (segments 1), per PPOQ token position and per weight column.
// Element i of a tensor is in segment (i / inner) % segments, i.e. the tensor is [outer, segments, inner].
//   mode 0, uniform (calibration/fake-quant-f32.ts uniformFq): x̂ = (clamp(round(x/Δ) + z, 0, L−1) − z)·Δ
//   mode 1, log√2 (logSqrt2Fq): code from the exact quotient x/Δ compared with host thresholds (as
//     shaders/quant/log_quant.wgsl), x̂ = 2^(−ceil(k/2))·(k odd ? f32(√2) : 1)·Δ, code L → 0;
//   error e = f32(x − x̂), summed e·e. Candidate c of segment s: Δ = qparams[2s][c], z = qparams[2s+1][c].
// PPOQ: |x| > τ counts as 0 (tau_bits as in segment_radix.wgsl; 0x7f800000 disables it).
// Exactness: x/Δ is the correctly rounded quotient (shaders/common/exact_division.wgsl: integer long
// division wherever the hardware quotient is within 8 ULP of a .5 step), so codes equal the CPU's;
// x̂ passes through `opaque` (an XOR with params.opaque = 0 the compiler cannot see through) so x − x̂
// is never contracted into an FMA and rounds like the CPU's f32(x − f32(x̂)).
// Ownership: workgroup g handles segment g % segments and elements [c·chunk, (c+1)·chunk) of that
// segment's outer·inner values, c = g / segments; each thread strides by WG, then a tree reduction;
// partials[base + c·segments + seg] = the 4 sums (lanes ≥ ncand are 0).
// Bindings: 0 x [outer·segments·inner], 1 qparams [segments·2] vec4f, 2 thresholds [levels] u32 (log;
// any buffer otherwise), 3 partials [base + chunks·segments] vec4f, 4 params.

struct Params {
  outer: u32,
  segments: u32,
  inner: u32,
  chunk: u32,
  chunks: u32,
  levels: u32,
  mode: u32,
  ncand: u32,
  tau_bits: i32,
  base: u32,
  opaque: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> qparams: array<vec4f>;
@group(0) @binding(2) var<storage, read> thresholds: array<u32>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4f>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<vec4f, WG>;

// round(x/Δ) for any sign of x and Δ ≠ 0 (both roundings are odd functions): unlike round_quotient of
// exact_division.wgsl (Δ > 0, sign from v < 0), the sign comes from both sign bits. Subnormal x or Δ
// always take the exact path (the hardware may flush them).
fn round_quotient_any_sign(v: f32, d: f32) -> f32 {
  let ad = abs(d);
  let n = round_abs_quotient(abs(v), ad, bitcast<u32>(ad) < 0x800000u);
  let neg = ((bitcast<u32>(v) ^ bitcast<u32>(d)) & 0x80000000u) != 0u;
  return select(n, -n, neg);
}

fn opaque(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) ^ params.opaque); }

fn uniform_fq(v: f32, d: f32, z: f32) -> f32 {
  let q = clamp(round_quotient_any_sign(v, d) + z, 0.0, f32(params.levels - 1u));
  return opaque((q - z) * d);
}

// log√2 code (levels = exact zero) of s >= 0 for Δ > 0: first j with bits(s/Δ) >= thresholds[j].
fn log_fq(s: f32, d: f32) -> f32 {
  let sb = bitcast<u32>(s);
  if (sb == 0u || sb > 0x7f800000u) { return 0.0; }  // +0 (and negatives, which the host keeps away)
  let ub = exact_div_bits(sb, bitcast<u32>(d));
  var lo = 0u;
  var hi = params.levels;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ub < thresholds[mid]) { lo = mid + 1u; } else { hi = mid; }
  }
  return opaque(log_level(lo, params.levels, false, d));  // code L → 0 (opaque(0) = 0: params.opaque is 0)
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group >= params.segments * params.chunks) { return; }
  let seg = group % params.segments;
  let c = group / params.segments;
  let per = params.outer * params.inner;
  let end = min((c + 1u) * params.chunk, per);
  let dq = qparams[2u * seg];
  let zq = qparams[2u * seg + 1u];
  var acc = vec4f(0.0);
  for (var t = c * params.chunk + li; t < end; t += WG) {
    let o = t / params.inner;
    let i = (o * params.segments + seg) * params.inner + (t - o * params.inner);
    var v = x[i];
    if (i32(bitcast<u32>(v) & 0x7fffffffu) > params.tau_bits) { v = 0.0; }
    for (var k = 0u; k < params.ncand; k++) {
      var fq: f32;
      if (params.mode == 0u) { fq = uniform_fq(v, dq[k], zq[k]); } else { fq = log_fq(v, dq[k]); }
      let e = v - fq;
      acc[k] += e * e;
    }
  }
  red[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[params.base + c * params.segments + seg] = red[0]; }
}
