// adaround.wgsl: AdaRound's soft rounding of the weights (ADFQ §5.3) for a canonical [in, out] Linear
// weight W with per-output-column Δw[c], zw[c] (c = i % cols), in four entry points:
//   init_alpha:   α = −log(1.2/(r + 0.1) − 1), r = clamp(u − floor(u), 0, 1), u = W/Δw, so h(α) = r
//                 (|α| ≤ log 11: finite for every weight)
//   soft_weights: out = Δw·(clamp(floor(u) + h(α) + zw, 0, L−1) − zw),  h(α) = clamp(1.2·σ(α) − 0.1, 0, 1)
//   hard_weights: out = Δw·(clamp(floor(u) + [α ≥ 0] + zw, 0, L−1) − zw)  (hardening; exact in f32)
//   alpha_grad:   dalpha = dsoft·Δw·[0 ≤ floor(u) + h + zw ≤ L−1]·h'(α)  (dsoft = ∂L/∂W̃; h' = 1.2σ(1 − σ)
//                 where 0 ≤ 1.2σ − 0.1 ≤ 1, else 0; masks inclusive, as torch's clamp backward)
//                 + with reg = 1, the rounding regulariser L_round = coef·Σ(1 − |2h − 1|^β):
//                 −2·coef·β·|2h − 1|^(β−1)·sign(2h − 1)·h'(α); partials[g] = L_round over workgroup g.
// u is the correctly rounded quotient (exact_div_bits), so floor(u) is the float32 forward's.
// Ownership: one weight per thread, thread id = linear workgroup id · WG + local index; alpha_grad's
// threads past the end take part in the tree sum with 0.
// Bindings: 0 w, 1 delta [cols], 2 zero [cols], 3 dsoft (alpha_grad; else bound to w), 4 alpha (written by
// init_alpha, read by the others), 5 out, 6 dalpha, 7 partials, 8 params. An output an entry does not
// write is bound to a small scratch buffer.

struct Params {
  count: u32,
  cols: u32,
  levels: u32,
  coef: f32,
  beta: f32,
  reg: u32,
}

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read> zero: array<f32>;
@group(0) @binding(3) var<storage, read> dsoft: array<f32>;
@group(0) @binding(4) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> dalpha: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<f32, WG>;

// exact_div_bits: shaders/common/exact_division.wgsl (listed in the wrapper's libs).

fn element(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
}

// W/Δw, correctly rounded, with the sign of W.
fn quotient(i: u32) -> f32 {
  let v = w[i];
  let a = bitcast<f32>(exact_div_bits(bitcast<u32>(abs(v)), bitcast<u32>(delta[i % params.cols])));
  return select(a, -a, v < 0.0);
}

fn sigmoid(a: f32) -> f32 { return 1.0 / (1.0 + exp(-a)); }

@compute @workgroup_size(WG)
fn init_alpha(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) li: u32) {
  let i = element(wid, nwg, li);
  if (i >= params.count) { return; }
  let u = quotient(i);
  let r = clamp(u - floor(u), 0.0, 1.0);
  alpha[i] = -log(1.2 / (r + 0.1) - 1.0);
}

// Δw·(clamp(floor(u) + t + zw, 0, L−1) − zw) for the rounding target t of element i.
fn rounded(i: u32, t: f32) -> f32 {
  let c = i % params.cols;
  let z = zero[c];
  return (clamp(floor(quotient(i)) + t + z, 0.0, f32(params.levels - 1u)) - z) * delta[c];
}

@compute @workgroup_size(WG)
fn soft_weights(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) li: u32) {
  let i = element(wid, nwg, li);
  if (i >= params.count) { return; }
  out[i] = rounded(i, clamp(1.2 * sigmoid(alpha[i]) - 0.1, 0.0, 1.0));
}

@compute @workgroup_size(WG)
fn hard_weights(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) li: u32) {
  let i = element(wid, nwg, li);
  if (i >= params.count) { return; }
  out[i] = rounded(i, select(0.0, 1.0, alpha[i] >= 0.0));
}

@compute @workgroup_size(WG)
fn alpha_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group * WG >= params.count) { return; }  // whole workgroup: uniform
  let i = group * WG + li;
  var loss = 0.0;
  if (i < params.count) {
    let c = i % params.cols;
    let s = sigmoid(alpha[i]);
    let hr = 1.2 * s - 0.1;
    let h = clamp(hr, 0.0, 1.0);
    let hp = select(0.0, 1.2 * s * (1.0 - s), hr >= 0.0 && hr <= 1.0);
    let code = floor(quotient(i)) + h + zero[c];
    var g = select(0.0, dsoft[i] * delta[c] * hp, code >= 0.0 && code <= f32(params.levels - 1u));
    if (params.reg != 0u) {
      let t = 2.0 * h - 1.0;
      let a = abs(t);
      var p = 0.0;  // |2h − 1|^(β−1); β ≥ 1 here, and pow(0, y) is left undefined by WGSL
      if (a > 0.0) { p = pow(a, params.beta - 1.0); }
      g -= 2.0 * params.coef * params.beta * p * sign(t) * hp;
      loss = params.coef * (1.0 - p * a);
    }
    dalpha[i] = g;
  }
  red[li] = loss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[group] = red[0]; }
}
