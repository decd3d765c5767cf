// uniform_quant_backward.wgsl: the gradient rules of ADFQ §5.5 for uniform_quant.wgsl's forward
// x̂ = (clamp(round(x/Δ) + z, 0, L−1) − z)·Δ, per tensor, per token position (PPOQ: |x| > τ passes x) or
// per channel (column c of [rows, cols]: q, k, v in the fused qkv).
// Given dy = ∂L/∂x̂, writes dx (write_dx = 1) and per-workgroup partial sums of dy·∂x̂/∂Δ.
//   Codes: c = round(x/Δ) + z, the forward's float32 steps; inside ⇔ 0 ≤ c ≤ L − 1 (the rounded,
//   unclamped code, as torch's clamp mask after round_ste); q = clamp(c, 0, L − 1).
//   x_grad 0 (the default mode except q/k/v): dx = 0. Rounding without STE has derivative 0, and PPOQ
//            detaches its input, so its outliers get 0 as well.
//   x_grad 1 (STE: q/k/v in the default mode, every quantizer in 'ste-lsq'): dx = dy inside, 0 clamped;
//            PPOQ outliers (x̂ = x) dy.
//   delta_rule 0 (the default mode): ∂x̂/∂Δ = q − z for every element, clamped ones at their bound (the
//            forward is linear in Δ while the codes do not change); PPOQ outliers 0.
//   delta_rule 1 (LSQ): ∂x̂/∂Δ = (q − z) − x/Δ = round(u) − u inside (exact in f32 once u = x/Δ is the
//            correctly rounded quotient, exact_div_bits), q − z clamped; PPOQ outliers 0.
// Entries (one per granularity, the same rules):
//   main (per tensor / per token): workgroup g owns elements [g·span, g·span + span) (per token: span =
//     cols, one row, parameter entry g % tokens), its threads stride over them; partials[g] = Σ dy·∂x̂/∂Δ
//     over them, a tree sum in workgroup memory (deterministic).
//   channels: workgroup g owns column tile t = g % tiles (tiles = ⌈cols / WG⌉) of row block
//     r = g / tiles (span rows); thread li owns column c = t·WG + li of that block, so neighbouring
//     threads read neighbouring addresses, and writes its own sum partials[r·cols + c] (no reduction).
// sum_partials.wgsl adds partials p ≡ j (mod entries) into entry j (entries = 1 | tokens | cols).
// Bindings: 0 x, 1 dy, 2 delta [1 | tokens | cols], 3 zero [same], 4 dx, 5 partials [workgroups |
// row blocks·cols], 6 params.

struct Params {
  count: u32,
  cols: u32,
  tokens: u32,
  levels: u32,
  per_token: u32,
  ppoq: u32,
  tau: f32,
  x_grad: u32,
  delta_rule: u32,
  span: u32,
  write_dx: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> delta: array<f32>;
@group(0) @binding(3) var<storage, read> zero: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<f32, WG>;

// exact_div_bits, round_quotient: shaders/common/exact_division.wgsl (listed in the wrapper's libs).

// (dx, dy·∂x̂/∂Δ) of one element v, gradient gy, with parameters Δ = d, z (PPOQ outliers excluded).
fn element_grads(v: f32, gy: f32, d: f32, z: f32) -> vec2f {
  var u = 0.0;
  var n: f32;
  if (params.delta_rule == 1u) {
    let a = bitcast<f32>(exact_div_bits(bitcast<u32>(abs(v)), bitcast<u32>(d)));
    u = select(a, -a, v < 0.0);
    n = round(u);
  } else {
    n = round_quotient(v, d, false);
  }
  let top = f32(params.levels - 1u);
  let c = n + z;
  let inside = c >= 0.0 && c <= top;
  var dd = clamp(c, 0.0, top) - z;
  if (params.delta_rule == 1u && inside) { dd = n - u; }
  return vec2f(select(0.0, gy, params.x_grad != 0u && inside), gy * dd);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let begin = g * params.span;
  if (begin >= params.count) { return; }  // whole workgroup: uniform
  let end = min(begin + params.span, params.count);
  var j = 0u;
  if (params.per_token != 0u) { j = (begin / params.cols) % params.tokens; }
  let d = delta[j];
  let z = zero[j];
  var acc = 0.0;
  for (var i = begin + li; i < end; i += WG) {
    let v = x[i];
    let gy = dy[i];
    var g = vec2f(select(0.0, gy, params.x_grad != 0u), 0.0);  // a PPOQ outlier: x̂ = x, no Δ term
    if (params.ppoq == 0u || abs(v) <= params.tau) { g = element_grads(v, gy, d, z); }
    acc += g.y;
    if (params.write_dx != 0u) { dx[i] = g.x; }
  }
  red[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[g] = red[0]; }
}

@compute @workgroup_size(WG)
fn channels(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) li: u32) {
  let g = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let tiles = (params.cols + WG - 1u) / WG;
  let rows = params.count / params.cols;
  let begin = (g / tiles) * params.span;
  let c = (g % tiles) * WG + li;
  if (begin >= rows || c >= params.cols) { return; }  // no barriers here: per-thread exit is fine
  let d = delta[c];
  let z = zero[c];
  var acc = 0.0;
  for (var r = begin; r < min(begin + params.span, rows); r++) {
    let i = r * params.cols + c;
    let e = element_grads(x[i], dy[i], d, z);
    acc += e.y;
    if (params.write_dx != 0u) { dx[i] = e.x; }
  }
  partials[(g / tiles) * params.cols + c] = acc;
}
