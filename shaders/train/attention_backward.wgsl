// attention_backward.wgsl: the gradient of attention.wgsl's out w.r.t. the fused qkv, in three entry
// points run in this order (each reads what the one before wrote):
//   scores_grad:    dP = rule(dO·Vᵀ) (+ dprobs_extra when has_extra = 1), then the softmax backward
//                   dS[b,h,i,j] = P_ij · (dP_ij − Σ_l dP_il·P_il), the gradient w.r.t. q·kᵀ·scale
//   query_grad:     dQ[b,i,h,:] = scale · Σ_j dS[b,h,i,j] · K[b,j,h,:]
//   key_value_grad: dK[b,j,h,:] = scale · Σ_i dS[b,h,i,j] · Q[b,i,h,:];  dV[b,j,h,:] = Σ_i P̂[b,h,i,j] · dO[b,i,h,:]
// Quantized attention (out = P̂·V with P̂ = logQuant(P), the post-softmax log√2 / log2 quantizer): probs_hat
// is P̂ (bind probs for the float forward), and dout_rule says how dP̂ = dO·Vᵀ reaches P:
//   0 'pass': dP = dP̂ (no quantizer);   1 'none': the quantizer rounds without STE, dP = 0;
//   2 'ste':  dP = dP̂ where P lies inside the quantizer's range, 0 in its zero code and top clamp — the
//             region rule of log_quant_backward.wgsl: u = P/Δ correctly rounded (exact_div_bits), code =
//             first j with bits(u) ≥ thresholds[j] (levels: the zero code), top ⇔ bits(u) ≥ top_bits.
//   dprobs_extra (e.g. the KL term of attention_kl.wgsl, a gradient w.r.t. P itself) is added after the rule.
// Layouts as in attention.wgsl: qkv and dqkv [B·N, 3·dim] (q | k | v, head h at columns h·hd ..),
// probs, probs_hat, dprobs_extra and dscores [B, H, N, N], dout [B·N, dim]. Bind any read-only buffer to
// dprobs_extra when has_extra = 0 and to quant unless dout_rule = 2. quant (u32) = [bits of Δ, the log
// quantizer's thresholds[0 .. levels)]: one binding for both keeps the kernel within the 8 storage
// buffers every WebGPU device offers.
// Ownership: scores_grad, one query row (b, h, i) per thread, row = (b·H + h)·N + i, dP written to
// dscores and rewritten in place; query_grad and key_value_grad, one (token, head, d) element per thread,
// e = (b·N + t)·dim + h·hd + d, so neighbouring threads read neighbouring columns. Thread id = linear
// workgroup id · WG + local index. No shared memory, no barriers.
// Bindings: 0 qkv, 1 probs, 2 probs_hat, 3 dout, 4 dprobs_extra, 5 quant, 6 dscores, 7 dqkv, 8 params.

struct Params {
  batch: u32,
  tokens: u32,
  heads: u32,
  head_dim: u32,
  scale: f32,
  has_extra: u32,
  dout_rule: u32,
  levels: u32,
  top_bits: u32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> probs_hat: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> dprobs_extra: array<f32>;
@group(0) @binding(5) var<storage, read> quant: array<u32>;
@group(0) @binding(6) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(7) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

override WG: u32 = 64;

// exact_div_bits: shaders/common/exact_division.wgsl (listed in the wrapper's libs).

// Whether the log quantizer passes the STE at probability p: not the zero code (p ≤ 0, NaN, or code
// `levels`) and not the top clamp. The code search is log_quant_backward.wgsl's code_of over quant[1..]
// (it reads a binding, so it cannot live in a shaders/common library).
fn ste_inside(p: f32) -> bool {
  let pb = bitcast<u32>(p);
  if (pb == 0u || pb >= 0x7f800000u) { return false; }  // +0, +inf, NaN and every negative value
  let ub = exact_div_bits(pb, quant[0]);
  if (ub >= params.top_bits) { return false; }
  var lo = 0u;
  var hi = params.levels;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ub < quant[1u + mid]) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo < params.levels;
}

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
    var dp = 0.0;
    if (params.dout_rule != 1u) {
      for (var d = 0u; d < hd; d++) { dp = fma(dout[o_base + d], qkv[v_base + j * stride + d], dp); }
    }
    if (params.dout_rule == 2u && !ste_inside(probs[p_base + j])) { dp = 0.0; }
    if (params.has_extra != 0u) { dp += dprobs_extra[p_base + j]; }
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
    dv = fma(probs_hat[s_base + i * n], dout[o_base + i * dim], dv);
  }
  dqkv[t * stride + dim + h * hd + d] = params.scale * dk;
  dqkv[t * stride + 2u * dim + h * hd + d] = dv;
}
