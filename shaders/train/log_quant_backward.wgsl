// log_quant_backward.wgsl: the gradient rules of ADFQ §5.5 for log_quant.wgsl's forward (log√2 / log2,
// and SLQ x̂ = F(S) + m − eps with S = (x − m) + eps, F(S) = Δ·2^(−k/2)), given dy = ∂L/∂x̂.
//   Codes as the forward: u = S/Δ correctly rounded (exact_div_bits), k = the first j with
//   bits(u) ≥ thresholds[j] (L: the exact zero). Regions: 'zero' (k = L), 'top' (bits(u) ≥ top_bits, i.e.
//   round(−2·log2 u) < 0, clamped to the level Δ), else 'inside'. level(k) = 2^(−k/2) is log_level of Δ = 1.
//   x_grad 0 (default mode: rounds without STE): ∂x̂/∂x = 0.   x_grad 1 (STE): 1 inside, 0 in 'zero'/'top'.
//   delta_rule 0 (default: codes held fixed): ∂x̂/∂Δ = level(k) (1 in 'top', 0 in 'zero').
//   delta_rule 1 (LSQ, the STE through F: F' = 1 inside): level(k) − u inside (exact in f32: u lies within
//            a factor 2^(1/4) of level(k)), 1 in 'top', 0 in 'zero'.
//   Dynamic SLQ shift (m = min(x), shift_mode 1): ∂x̂/∂m = 1 − ∂x̂/∂x, so ∂L/∂m = Σ dy·(1 − ste mask); the
//   entry shift_grad then adds ∂L/∂m / #ties to dx where x = m (torch's min() backward), reading
//   sums = [Σ ∂L/∂m, #ties] (sum_partials of this kernel's partials).
// Entries, in order: main, then (only with a dynamic shift whose gradient is wanted) shift_grad.
// Ownership: main, workgroup g owns elements [g·span, g·span + span), its threads stride over them;
// partials[g] = Σ dy·∂x̂/∂Δ and partials[groups + 2g], [groups + 2g + 1] = Σ dy·(1 − ste), #(x = m), tree
// sums in workgroup memory (deterministic). shift_grad: one element per thread.
// Bindings: 0 x, 1 dy, 2 delta [1], 3 shift (bound to x unless shift_mode 1), 4 thresholds [levels] u32,
// 5 sums [2] (shift_grad; bound to x in main), 6 dx, 7 partials [3·groups], 8 params.

struct Params {
  count: u32,
  span: u32,
  levels: u32,
  base2: u32,
  shift_mode: u32,
  shift: f32,
  eps: f32,
  x_grad: u32,
  delta_rule: u32,
  top_bits: u32,
  write_dx: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> delta: array<f32>;
@group(0) @binding(3) var<storage, read> shift: array<f32>;
@group(0) @binding(4) var<storage, read> thresholds: array<u32>;
@group(0) @binding(5) var<storage, read> sums: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<vec3f, WG>;

// exact_div_bits: shaders/common/exact_division.wgsl; log_level: shaders/common/log_level.wgsl.

// Code of the ratio bits ub (levels = exact zero), as log_quant.wgsl's log_code.
fn code_of(ub: u32) -> u32 {
  var lo = 0u;
  var hi = params.levels;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ub < thresholds[mid]) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}

fn shift_value() -> f32 {
  if (params.shift_mode == 1u) { return shift[0]; }
  return params.shift;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let begin = g * params.span;
  if (begin >= params.count) { return; }  // whole workgroup: uniform
  let end = min(begin + params.span, params.count);
  let m = shift_value();
  let d = delta[0];
  var acc = vec3f(0.0);
  for (var i = begin + li; i < end; i += WG) {
    let v = x[i];
    let gy = dy[i];
    var s = v;
    if (params.shift_mode != 0u) { s = (s - m) + params.eps; }
    let sb = bitcast<u32>(s);
    var k = params.levels;
    var ub = 0u;
    if (sb != 0u && sb <= 0x7f800000u) {  // +0, NaN and negative values take the zero code
      ub = exact_div_bits(sb, bitcast<u32>(d));
      k = code_of(ub);
    }
    let inside = k < params.levels && ub < params.top_bits;
    let ste = params.x_grad != 0u && inside;
    let level = log_level(k, params.levels, params.base2 != 0u, 1.0);
    var dd = level;
    if (params.delta_rule == 1u && inside) { dd = level - bitcast<f32>(ub); }
    if (params.write_dx != 0u) { dx[i] = select(0.0, gy, ste); }
    acc += vec3f(gy * dd, select(gy, 0.0, ste), select(0.0, 1.0, params.shift_mode == 1u && v == m));
  }
  red[li] = acc;
  workgroupBarrier();
  for (var t = WG / 2u; t > 0u; t = t / 2u) {
    if (li < t) { red[li] += red[li + t]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    let groups = (params.count + params.span - 1u) / params.span;
    partials[g] = red[0].x;
    partials[groups + 2u * g] = red[0].y;
    partials[groups + 2u * g + 1u] = red[0].z;
  }
}

@compute @workgroup_size(WG)
fn shift_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  if (x[i] == shift_value() && sums[1] > 0.0) { dx[i] += sums[0] / sums[1]; }
}
