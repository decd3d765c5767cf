// attention_kl.wgsl: the attention term of ADFQ §5.4 and its gradient w.r.t. the quantized model's
// attention maps A_q (attention probabilities [B, H, N, N]); A_fp are the FP model's.
//   P_q = softmax of A_q · inv_temp (T = 4) over one axis, P_fp likewise from A_fp;
//   L = coef · Σ_{b,h,i,j} P_q · (log P_q − log P_fp), coef = weight / B (weight 10).
// The axis is a softmax group of `len` elements with stride `inner`: group g starts at
// (g / inner)·len·inner + g % inner. HEAD axis (the released code): a group per position (b, i, j),
// inner = N², len = H. KEY axis (spec §5.5's option): a group per query row (b, h, i), inner = 1, len = N.
// In one group, with z = A_q·inv_temp, l = log P_q, r = log P_fp, KL = Σ_t P_q (l − r):
//   grad = ∂L/∂A_q = coef · inv_temp · P_q[t] · ((l[t] − r[t]) − KL)
//                 = coef · inv_temp · P_q[t] · (δ[t] − Σ_s P_q[s]·δ[s]),  δ = (A_q − A_fp) · inv_temp.
// Softmaxes are max-subtracted; each thread re-reads its group's values per pass instead of holding
// them (H ≤ 16 heads; N up to a few hundred keys, read from consecutive addresses).
// Ownership: one softmax group per thread, thread id = linear workgroup id · WG + local index. Threads
// past the end take part in the reduction with 0. partials[w] = coef · Σ KL over workgroup w's groups
// (f32; the host adds them in f64).
// Bindings: 0 scores_q, 1 scores_fp, 2 grad, 3 partials, 4 params.

struct Params {
  count: u32,
  len: u32,
  inner: u32,
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

// Max over the group of a[base + t·inner]·inv_temp and Σ_t exp(z − max); `fp` picks the tensor.
fn max_and_sum(base: u32, fp: bool) -> vec2f {
  var m = -3.402823466e+38f;
  for (var t = 0u; t < params.len; t++) {
    m = max(m, select(scores_q[base + t * params.inner], scores_fp[base + t * params.inner], fp) * params.inv_temp);
  }
  var s = 0.0;
  for (var t = 0u; t < params.len; t++) {
    s += exp(select(scores_q[base + t * params.inner], scores_fp[base + t * params.inner], fp) * params.inv_temp - m);
  }
  return vec2f(m, s);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let w = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (w * WG >= params.count) { return; }  // whole workgroup: uniform
  let e = w * WG + li;  // this thread's softmax group
  var loss = 0.0;
  if (e < params.count) {
    let base = (e / params.inner) * params.len * params.inner + e % params.inner;
    let q = max_and_sum(base, false);
    let f = max_and_sum(base, true);
    // With δ = (A_q − A_fp)·inv_temp: l − r = δ − dl, dl = lse_q − lse_fp, and KL = Σ P_q δ − dl, so the
    // gradient's (l − r) − KL = δ − Σ P_q δ needs neither log-sum-exp, and nothing cancels per element.
    var mean_delta = 0.0;
    for (var t = 0u; t < params.len; t++) {
      let i = base + t * params.inner;
      mean_delta += exp(scores_q[i] * params.inv_temp - q.x) / q.y * (scores_q[i] - scores_fp[i]) * params.inv_temp;
    }
    let g = params.coef * params.inv_temp;
    for (var t = 0u; t < params.len; t++) {
      let i = base + t * params.inner;
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
  if (li == 0u) { partials[w] = red[0]; }
}
