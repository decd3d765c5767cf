// attention_kl.wgsl: the head-axis attention term of ADFQ §5.4 and its gradient w.r.t. the quantized
// model's attention maps A_q (attention probabilities [B, H, N, N]); A_fp are the FP model's.
//   P_q = softmax over the HEAD axis of A_q · inv_temp (T = 4), P_fp likewise from A_fp;
//   L = coef · Σ_{b,h,i,j} P_q · (log P_q − log P_fp), coef = weight / B (weight 10).
// At one position (b, i, j), with z = A_q·inv_temp, l = log P_q, r = log P_fp, KL = Σ_h P_q (l − r):
//   grad[b,h,i,j] = ∂L/∂A_q = coef · inv_temp · P_q[h] · ((l[h] − r[h]) − KL)
//                 = coef · inv_temp · P_q[h] · (δ[h] − Σ_l P_q[l]·δ[l]),  δ = (A_q − A_fp) · inv_temp.
// Softmaxes over the heads are max-subtracted; H is small (≤ 16 in the ViTs we load), so each thread
// re-reads its H values per pass instead of holding them.
// Ownership: one position (b, p), p = i·N + j, per thread, thread id = linear workgroup id · WG + local
// index; element (b, h, p) at (b·H + h)·positions + p. Threads past the end take part in the reduction
// with 0. partials[g] = coef · Σ KL over workgroup g's positions (f32; the host adds them in f64).
// Bindings: 0 scores_q, 1 scores_fp, 2 grad, 3 partials, 4 params.

struct Params {
  batch: u32,
  heads: u32,
  positions: u32,
  inv_temp: f32,
  coef: f32,
}

@group(0) @binding(0) var<storage, read> scores_q: array<f32>;
@group(0) @binding(1) var<storage, read> scores_fp: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 64;  // a power of two (tree reduction)
var<workgroup> red: array<f32, WG>;

// Max over the heads of a[base + h·positions]·inv_temp and Σ_h exp(z − max); `fp` picks the tensor.
fn max_and_sum(base: u32, fp: bool) -> vec2f {
  var m = -3.402823466e+38f;
  for (var h = 0u; h < params.heads; h++) {
    m = max(m, select(scores_q[base + h * params.positions], scores_fp[base + h * params.positions], fp) * params.inv_temp);
  }
  var s = 0.0;
  for (var h = 0u; h < params.heads; h++) {
    s += exp(select(scores_q[base + h * params.positions], scores_fp[base + h * params.positions], fp) * params.inv_temp - m);
  }
  return vec2f(m, s);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let count = params.batch * params.positions;
  if (group * WG >= count) { return; }  // whole workgroup: uniform
  let e = group * WG + li;
  var loss = 0.0;
  if (e < count) {
    let b = e / params.positions;
    let base = b * params.heads * params.positions + e % params.positions;
    let q = max_and_sum(base, false);
    let f = max_and_sum(base, true);
    // With δ = (A_q − A_fp)·inv_temp: l − r = δ − dl, dl = lse_q − lse_fp, and KL = Σ P_q δ − dl, so the
    // gradient's (l − r) − KL = δ − Σ P_q δ needs neither log-sum-exp, and nothing cancels per head.
    var mean_delta = 0.0;
    for (var h = 0u; h < params.heads; h++) {
      let i = base + h * params.positions;
      mean_delta += exp(scores_q[i] * params.inv_temp - q.x) / q.y * (scores_q[i] - scores_fp[i]) * params.inv_temp;
    }
    let g = params.coef * params.inv_temp;
    for (var h = 0u; h < params.heads; h++) {
      let i = base + h * params.positions;
      let p = exp(scores_q[i] * params.inv_temp - q.x) / q.y;
      grad[i] = g * p * ((scores_q[i] - scores_fp[i]) * params.inv_temp - mean_delta);
    }
    loss = params.coef * (mean_delta - ((q.x - f.x) + log(q.y / f.y)));
  }
  red[li] = loss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[group] = red[0]; }
}
