// attention_backward.wgsl: the gradient of attention.wgsl's out w.r.t. the fused qkv, in three entry
// points run in this order (each reads what the one before wrote):
//   scores_grad:    dP = dO·Vᵀ (+ dprobs_extra when has_extra = 1), then the softmax backward
//                   dS[b,h,i,j] = P_ij · (dP_ij − Σ_l dP_il·P_il), the gradient w.r.t. q·kᵀ·scale
//   query_grad:     dQ[b,i,h,:] = scale · Σ_j dS[b,h,i,j] · K[b,j,h,:]
//   key_value_grad: dK[b,j,h,:] = scale · Σ_i dS[b,h,i,j] · Q[b,i,h,:];  dV[b,j,h,:] = Σ_i P[b,h,i,j] · dO[b,i,h,:]
// Layouts as in attention.wgsl: qkv and dqkv [B·N, 3·dim] (q | k | v, head h at columns h·hd ..),
// probs, dprobs_extra and dscores [B, H, N, N], dout [B·N, dim]. dprobs_extra is an additional gradient
// w.r.t. the probabilities (the head-axis KL term of attention_kl.wgsl); bind any read-only buffer when
// has_extra = 0.
// Ownership: scores_grad, one query row (b, h, i) per thread, row = (b·H + h)·N + i, dP written to
// dscores and rewritten in place; query_grad and key_value_grad, one (token, head, d) element per thread,
// e = (b·N + t)·dim + h·hd + d, so neighbouring threads read neighbouring columns. Thread id = linear
// workgroup id · WG + local index. No shared memory, no barriers.
// Bindings: 0 qkv, 1 probs, 2 dout, 3 dprobs_extra, 4 dscores, 5 dqkv, 6 params.

struct Params {
  batch: u32,
  tokens: u32,
  heads: u32,
  head_dim: u32,
  scale: f32,
  has_extra: u32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> dprobs_extra: array<f32>;
@group(0) @binding(4) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 64;

fn thread_id(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
}

// Output element e of a [B·N, dim] head-split tensor: row t = b·N + n, head h, lane d.
struct HeadElement { t: u32, h: u32, d: u32, b: u32, n: u32 }

fn head_element(e: u32) -> HeadElement {
  let hd = params.head_dim;
  let dim = params.heads * hd;
  let t = e / dim;
  return HeadElement(t, (e % dim) / hd, e % hd, t / params.tokens, t % params.tokens);
}

@compute @workgroup_size(WG)
fn scores_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) li: u32) {
  let row = thread_id(wid, nwg, li);
  let n = params.tokens;
  if (row >= params.batch * params.heads * n) { return; }
  let i = row % n;
  let h = (row / n) % params.heads;
  let b = row / (n * params.heads);
  let hd = params.head_dim;
  let dim = params.heads * hd;
  let stride = 3u * dim;
  let o_base = (b * n + i) * dim + h * hd;
  let v_base = b * n * stride + 2u * dim + h * hd;  // column of v for head h, token 0
  let p_base = row * n;
  var dot = 0.0;
  for (var j = 0u; j < n; j++) {
    var dp = select(0.0, dprobs_extra[p_base + j], params.has_extra != 0u);
    for (var d = 0u; d < hd; d++) { dp = fma(dout[o_base + d], qkv[v_base + j * stride + d], dp); }
    dscores[p_base + j] = dp;
    dot = fma(dp, probs[p_base + j], dot);
  }
  for (var j = 0u; j < n; j++) { dscores[p_base + j] = probs[p_base + j] * (dscores[p_base + j] - dot); }
}

@compute @workgroup_size(WG)
fn query_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) li: u32) {
  let e = thread_id(wid, nwg, li);
  if (e >= params.batch * params.tokens * params.heads * params.head_dim) { return; }
  let o = head_element(e);
  let n = params.tokens; let hd = params.head_dim; let dim = params.heads * hd; let stride = 3u * dim;
  let t = o.t; let h = o.h; let d = o.d; let b = o.b; let i = o.n;
  let s_base = ((b * params.heads + h) * n + i) * n;
  let k_base = b * n * stride + dim + h * hd + d;
  var acc = 0.0;
  for (var j = 0u; j < n; j++) { acc = fma(dscores[s_base + j], qkv[k_base + j * stride], acc); }
  dqkv[t * stride + h * hd + d] = params.scale * acc;
}

@compute @workgroup_size(WG)
fn key_value_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) li: u32) {
  let e = thread_id(wid, nwg, li);
  if (e >= params.batch * params.tokens * params.heads * params.head_dim) { return; }
  let o = head_element(e);
  let n = params.tokens; let hd = params.head_dim; let dim = params.heads * hd; let stride = 3u * dim;
  let t = o.t; let h = o.h; let d = o.d; let b = o.b; let j = o.n;
  let s_base = (b * params.heads + h) * n * n + j;  // column j of dS and P for (b, h)
  let q_base = b * n * stride + h * hd + d;
  let o_base = b * n * dim + h * hd + d;
  var dk = 0.0;
  var dv = 0.0;
  for (var i = 0u; i < n; i++) {
    dk = fma(dscores[s_base + i * n], qkv[q_base + i * stride], dk);
    dv = fma(probs[s_base + i * n], dout[o_base + i * dim], dv);
  }
  dqkv[t * stride + dim + h * hd + d] = params.scale * dk;
  dqkv[t * stride + 2u * dim + h * hd + d] = dv;
}
