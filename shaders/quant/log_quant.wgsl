// log_quant.wgsl: log√2 fake quantization (spec §2.4), its base-2 option, and SLQ (§4).
//   u = x/Δ, k = round(−2·log2 u) (base 2: round(−log2 u)); code L (exact zero) when k ≥ L or u ≤ 0/NaN,
//   else k = max(k, 0) and y = Δ·2^(−k/2), computed as ldexp(s·Δ, −ceil(k/2)) with s = f32(√2) for odd k
//   (the reference's 2^(−ceil(k/2))·s·Δ: the same single rounding while the level is a normal float).
// SLQ (shift_mode 1: m = shift[0], e.g. the min of a min_max accumulator; 2: m = params.shift):
//   S = (x − m) + eps, Ŝ = log√2(S), y = (Ŝ + m) − eps, each one f32 op (eps is a param, not a literal,
//   so no compiler can fold the two constants).
// Exactness: no log2 is evaluated. The host passes thresholds[j], the bits of the smallest positive f32 u
// whose reference index round(−2·f32(log2 u)) is ≤ j (reference/quant/log-quant.ts: logThresholds), and
// the code is the first j with bits(u) ≥ thresholds[j] (binary search; bit order = float order for
// u ≥ 0). u is the correctly rounded quotient computed with integer long division (exact_div_bits of
// shaders/common/exact_division.wgsl), so WGSL's log2 and division precision and denormal flushing
// cannot move a code. The level value: log_level of shaders/common/log_level.wgsl.
// Ownership: one thread per element; linear workgroup id folded over x/y/z by the host.
// Bindings: 0 x [count], 1 delta [1], 2 shift [>= 1] (bound to x when unused), 3 thresholds [levels] u32,
// 4 y [count], 5 codes [count] u32, 6 params.

struct Params {
  count: u32,
  levels: u32,
  base2: u32,
  shift_mode: u32,
  shift: f32,
  eps: f32,
  write_codes: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read> shift: array<f32>;
@group(0) @binding(3) var<storage, read> thresholds: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> codes: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256;

// Code of a value (levels = exact zero): first j with bits(u) >= thresholds[j].
fn log_code(s: f32, d: f32) -> u32 {
  let sb = bitcast<u32>(s);
  if (sb == 0u || sb > 0x7f800000u) { return params.levels; }  // +0, NaN, and every negative value
  let ub = exact_div_bits(sb, bitcast<u32>(d));
  var lo = 0u;
  var hi = params.levels;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ub < thresholds[mid]) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  var m = params.shift;
  if (params.shift_mode == 1u) { m = shift[0]; }
  var s = x[i];
  if (params.shift_mode != 0u) { s = (s - m) + params.eps; }
  let d = delta[0];
  let k = log_code(s, d);
  var v = log_level(k, params.levels, params.base2 != 0u, d);
  if (params.shift_mode != 0u) { v = (v + m) - params.eps; }
  y[i] = v;
  if (params.write_codes != 0u) { codes[i] = k; }
}
