// slq_shift.wgsl: the shifted values of SLQ (spec §4) with a constant shift m, materialised for the
// log√2 percentile-MSE search on them: s = f32(f32(x − m) + eps) exactly as the CPU computes it, where
// m is a JavaScript number (f64, e.g. SLQ_SHIFT = −0.17005, not an f32) and eps an f32. JavaScript's
// f32(x − m) rounds x − m to f64, then to f32; f32 arithmetic on f32(m) would differ in ~1 value in
// 100. So x + C (C = −m, passed as sign, exponent and 53-bit mantissa) is formed exactly in 64-bit
// integer arithmetic (two u32 words) on a grid 2^62 below the larger operand plus a sticky bit, rounded
// to 53 bits (f64), then to 24 (f32), both to nearest even; + eps is then one f32 addition (exact
// as the CPU's: both operands are f32).
// Ownership: one thread per element; linear workgroup id folded over x/y/z by the host.
// Bindings: 0 x [count], 1 s [count], 2 params.

struct Params {
  count: u32,
  c_neg: u32,  // C = −m < 0
  c_exp: i32,  // C = (c_hi·2^32 + c_lo)·2^(c_exp − 52), bit 52 of the mantissa set; mantissa 0: C = 0
  c_hi: u32,
  c_lo: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> s: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256;

// 64-bit unsigned integers as vec2u(low word, high word).
fn shl64(v: vec2u, n: u32) -> vec2u {  // n < 64
  if (n == 0u) { return v; }
  if (n >= 32u) { return vec2u(0u, v.x << (n - 32u)); }
  return vec2u(v.x << n, (v.y << n) | (v.x >> (32u - n)));
}

// v >> n, and z = 1 when nonzero bits were shifted out.
fn shr64(v: vec2u, n: u32) -> vec3u {
  if (n == 0u) { return vec3u(v, 0u); }
  if (n >= 64u) { return vec3u(0u, 0u, select(0u, 1u, (v.x | v.y) != 0u)); }
  if (n >= 32u) {
    let k = n - 32u;
    let lost = v.x != 0u || (k > 0u && (v.y & ((1u << k) - 1u)) != 0u);
    return vec3u(v.y >> k, 0u, select(0u, 1u, lost));
  }
  let lost = (v.x & ((1u << n) - 1u)) != 0u;
  return vec3u((v.x >> n) | (v.y << (32u - n)), v.y >> n, select(0u, 1u, lost));
}

fn add64(a: vec2u, b: vec2u) -> vec2u {
  let lo = a.x + b.x;
  return vec2u(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn sub64(a: vec2u, b: vec2u) -> vec2u { return vec2u(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x)); }

fn ge64(a: vec2u, b: vec2u) -> bool { return a.y > b.y || (a.y == b.y && a.x >= b.x); }

fn top_bit(v: vec2u) -> u32 {  // v != 0
  if (v.y != 0u) { return 63u - countLeadingZeros(v.y); }
  return 31u - countLeadingZeros(v.x);
}

// v rounded to nearest even at bit p (the low p bits dropped, `sticky` = nonzero bits below v), p >= 1.
fn round_at(v: vec2u, p: u32, sticky: u32) -> vec2u {
  let kept = shr64(v, p);
  let below = shr64(v, p - 1u);  // its bit 0 is the half bit, z the bits under it
  let half = (below.x & 1u) != 0u;
  let up = half && (below.z != 0u || sticky != 0u || (kept.x & 1u) != 0u);
  return add64(kept.xy, vec2u(select(0u, 1u, up), 0u));
}

// f32(f64(x + C)) for finite x given as bits: JavaScript's Math.fround(x − m).
fn shifted(xb: u32) -> f32 {
  if ((params.c_lo | params.c_hi) == 0u || (xb & 0x7fffffffu) >= 0x7f800000u) { return bitcast<f32>(xb); }
  var mx = xb & 0x7fffffu;
  var ex = i32((xb >> 23u) & 0xffu);
  if (ex != 0) { mx |= 0x800000u; ex -= 127; }
  else if (mx != 0u) { let n = countLeadingZeros(mx) - 8u; mx <<= n; ex = -126 - i32(n); }
  else { ex = params.c_exp; }  // x = ±0
  let x_neg = (xb >> 31u) != 0u;
  let c_neg = params.c_neg != 0u;
  // Both on the grid 2^(top − 62), top = the larger exponent + 1: the larger operand has bit 61 set.
  let top = max(ex, params.c_exp) + 1;
  let sx = ex - top + 39;  // mx · 2^sx, sx <= 38
  let sc = params.c_exp - top + 10;  // mc · 2^sc, sc <= 9
  var X = vec3u(0u);
  var C = vec3u(0u);
  if (sx >= 0) { X = vec3u(shl64(vec2u(mx, 0u), u32(sx)), 0u); } else { X = shr64(vec2u(mx, 0u), u32(-sx)); }
  let mc = vec2u(params.c_lo, params.c_hi);
  if (sc >= 0) { C = vec3u(shl64(mc, u32(sc)), 0u); } else { C = shr64(mc, u32(-sc)); }
  // Only the smaller operand (exponent 10+ or 39+ below) can have lost bits, so the larger one is never
  // the truncated one: a truncated subtrahend takes one more unit off and leaves a sticky remainder.
  var r: vec2u;
  var neg: bool;
  if (x_neg == c_neg) {
    r = add64(X.xy, C.xy);
    neg = x_neg;
  } else if (ge64(X.xy, C.xy)) {
    r = sub64(sub64(X.xy, C.xy), vec2u(C.z, 0u));
    neg = x_neg;
  } else {
    r = sub64(sub64(C.xy, X.xy), vec2u(X.z, 0u));
    neg = c_neg;
  }
  var sticky = X.z | C.z;
  if ((r.x | r.y) == 0u) { return 0.0; }  // exact cancellation: +0
  // Round to f64 (53 bits), then to f32 (24 bits; fewer for subnormal results).
  var lead = top_bit(r);
  if (lead > 52u) {
    r = shl64(round_at(r, lead - 52u, sticky), lead - 52u);  // back on the grid (a carry makes bit 62)
    sticky = 0u;
    lead = top_bit(r);
  }
  let e = i32(lead) + top - 62;  // exponent of the leading bit
  var p = i32(lead) - 23;
  if (e < -126) { p += -126 - e; }
  var m = r.x;
  if (p > 0) { m = round_at(r, u32(p), sticky).x; } else if (p < 0) { m = shl64(r, u32(-p)).x; }
  var bits = m;  // subnormal (rounding up to 2^23 makes it the smallest normal)
  if (e >= -126) { bits = min((u32(e + 126) << 23u) + m, 0x7f800000u); }  // m's bit 23 bumps the exponent field
  return bitcast<f32>(bits | select(0u, 0x80000000u, neg));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  s[i] = shifted(x[i]) + params.eps;
}
