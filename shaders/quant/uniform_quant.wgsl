// uniform_quant.wgsl: uniform asymmetric fake quantization (spec §2.1), optionally PPOQ (§3).
//   q = clamp(round(x/Δ) + z, 0, L−1), y = (q − z)·Δ, codes = q (u32, when write_codes != 0).
// Parameters per tensor (mode 0: entry 0), per channel (mode 1: entry i % cols) or per token
// (mode 2: entry (i / cols) % tokens). PPOQ (ppoq != 0, token mode): |x| > tau (strict) passes through
// in FP32 with the code of 0, and outliers[n] counts them per token position (atomics; host zeroes it).
// Exactness: x/Δ must be the correctly rounded f32 quotient, but WGSL allows 2.5 ULP for `/`. So the
// hardware quotient d is only trusted when it lies clearly away (> d·2^-20, i.e. > 8 ULP) from a .5
// boundary of round(); otherwise the quotient is recomputed exactly with integer long division on the
// mantissas (exact_div_bits: no float op, so neither division precision, FMA contraction nor
// denormal flushing can move a code). EXACT_DIV = true forces that path everywhere (tests use it).
// Δ must be a positive finite float. Ownership: one thread per element; linear workgroup id folded
// over x/y/z by the host.
// Bindings: 0 x [count], 1 delta [1|cols|tokens], 2 zero [same], 3 y [count], 4 codes [count] u32,
// 5 outliers [tokens] u32, 6 params.

struct Params {
  count: u32,
  cols: u32,
  tokens: u32,
  levels: u32,
  mode: u32,
  ppoq: u32,
  tau: f32,
  write_codes: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read> zero: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> codes: array<u32>;
@group(0) @binding(5) var<storage, read_write> outliers: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256;
override EXACT_DIV: bool = false;

// q >> s rounded to nearest even; `sticky` says whether nonzero bits lie below q. 1 <= s <= 31.
fn round_shift(q: u32, s: u32, sticky: bool) -> u32 {
  let kept = q >> s;
  let rem = q & ((1u << s) - 1u);
  let half = 1u << (s - 1u);
  let up = rem > half || (rem == half && (sticky || (kept & 1u) == 1u));
  return kept + select(0u, 1u, up);
}

// Mantissa in [2^23, 2^24) and unbiased exponent of a positive finite float given as bits (subnormals
// normalised), so the value is m · 2^(e − 23).
fn unpack(b: u32) -> vec2i {
  let f = b & 0x7fffffu;
  let e = i32(b >> 23u);
  if (e == 0) {
    let s = countLeadingZeros(f) - 8u;
    return vec2i(i32(f << s), -126 - i32(s));
  }
  return vec2i(i32(f | 0x800000u), e - 127);
}

// Bits of the correctly rounded (to nearest even) f32 quotient a/b, for a >= 0 and b > 0 finite, given
// as bits. Restoring division yields 25 quotient bits plus a sticky remainder, enough to round once.
fn exact_div_bits(ab: u32, bb: u32) -> u32 {
  if (ab == 0u || ab >= 0x7f800000u) { return ab; }  // 0, inf, NaN unchanged
  let ua = unpack(ab);
  let ub = unpack(bb);
  var ma = u32(ua.x);
  let mb = u32(ub.x);
  var e = ua.y - ub.y;
  if (ma < mb) { ma = ma << 1u; e -= 1; }  // now ma/mb in [1, 2)
  var q = 0u;
  var r = ma;
  for (var i = 0u; i < 25u; i++) {
    q = q << 1u;
    if (r >= mb) { r -= mb; q |= 1u; }
    r = r << 1u;
  }
  let sticky = r != 0u;  // quotient = q · 2^(e − 24) + (remainder)
  if (e > 127) { return 0x7f800000u; }
  if (e >= -126) { return (u32(e + 126) << 23u) + round_shift(q, 1u, sticky); }  // carry bumps exponent
  let s = u32(-125 - e);  // subnormal: units of 2^-149
  if (s > 25u) { return 0u; }
  return round_shift(q, s, sticky);
}

// round(x/Δ) with the correctly rounded quotient (sign handled by symmetry of both roundings).
fn round_quotient(v: f32, d: f32) -> f32 {
  let a = abs(v);
  let approx = a / d;
  var n = round(approx);
  let near_tie = abs(fract(approx) - 0.5) <= approx * 0x1p-20;
  if (EXACT_DIV || near_tie || bitcast<u32>(a) < 0x800000u) {
    n = round(bitcast<f32>(exact_div_bits(bitcast<u32>(a), bitcast<u32>(d))));
  }
  return select(n, -n, v < 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  var j = 0u;
  if (params.mode == 1u) { j = i % params.cols; }
  if (params.mode == 2u) { j = (i / params.cols) % params.tokens; }
  let v = x[i];
  let outlier = params.ppoq != 0u && abs(v) > params.tau;
  let d = delta[j];
  let z = zero[j];
  let q = clamp(round_quotient(select(v, 0.0, outlier), d) + z, 0.0, f32(params.levels - 1u));
  y[i] = select((q - z) * d, v, outlier);
  if (params.write_codes != 0u) { codes[i] = u32(q); }
  if (outlier) { atomicAdd(&outliers[j], 1u); }
}
