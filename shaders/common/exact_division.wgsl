// exact_division.wgsl: shared functions (no bindings, no entry points) for round(x/Δ) with the correctly
// rounded f32 quotient, which the fake quantizers need to match their CPU twins bit for bit.
// WGSL allows 2.5 ULP for `/`, so round_abs_quotient trusts the hardware quotient q only when it lies
// clearly away (> q·2^-20, i.e. > 8 ULP) from a .5 boundary of round() and the dividend is a normal
// float; otherwise it recomputes the quotient with integer long division on the mantissas
// (exact_div_bits: no float op, so neither division precision, FMA contraction nor denormal flushing
// can move a code). Callers add their own reasons to take the exact path through `exact`.
// Provides: round_shift, unpack, exact_div_bits, round_abs_quotient, round_quotient.
// Used by (listed in their wrappers' `libs`): quant/uniform_quant, quant/log_quant (exact_div_bits only),
// calib/grid_score, calib/segment_mse (round_abs_quotient, with its own sign rule),
// train/uniform_quant_backward, train/log_quant_backward, train/adaround.

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
// (tests/quant-exact-division.test.ts transcribes this function line by line.)
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

// round(a/d) with the correctly rounded quotient, for a = |x| and d > 0 finite. The exact path runs near
// a tie, for a subnormal a, and whenever `exact` is true (uniform_quant: the EXACT_DIV override;
// grid_score, segment_mse: a subnormal Δ, which the hardware may flush).
fn round_abs_quotient(a: f32, d: f32, exact: bool) -> f32 {
  let approx = a / d;
  var n = round(approx);
  let near_tie = abs(fract(approx) - 0.5) <= approx * 0x1p-20;
  if (exact || near_tie || bitcast<u32>(a) < 0x800000u) {
    n = round(bitcast<f32>(exact_div_bits(bitcast<u32>(a), bitcast<u32>(d))));
  }
  return n;
}

// round(v/d) for d > 0: the sign of v < 0 applied to round(|v|/d) (both roundings are odd functions).
fn round_quotient(v: f32, d: f32, exact: bool) -> f32 {
  let n = round_abs_quotient(abs(v), d, exact);
  return select(n, -n, v < 0.0);
}
