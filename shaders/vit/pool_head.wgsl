// pool_head.wgsl: logits[b, c] from the prefix tokens: the final LayerNorm on row b·N (cls) and, when
// take = 2 (DeiT distilled), on row b·N + 1 (dist), then the head Linear(s):
//   take = 1: logits = LN(x_cls)·W + bias
//   take = 2: logits = (LN(x_cls)·W + bias + LN(x_dist)·W_dist + bias_dist) / 2
// Only the pooled rows are normalised: LN is per row, so LN over all tokens then pooling is the same.
// Ownership: workgroup (b, class block) with linear id b·blocks + block; it normalises its 1-2 rows
// into shared memory (recomputed per block: cheap next to dim·WG MACs), then thread li owns class
// block·WG + li (W reads coalesced across threads).
// Bindings: 0 x [B·N, dim], 1 gamma, 2 beta, 3 w [dim, classes], 4 bias, 5 w_dist, 6 bias_dist
// (bind w / bias again when take = 1), 7 logits [B, classes], 8 params.

struct Params {
  batch: u32,
  tokens: u32,
  dim: u32,
  classes: u32,
  take: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> w_dist: array<f32>;
@group(0) @binding(6) var<storage, read> bias_dist: array<f32>;
@group(0) @binding(7) var<storage, read_write> logits: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

override WG: u32 = 256;       // power of two
override MAX_DIM: u32 = 1024;
var<workgroup> xn: array<f32, 2 * MAX_DIM>;
var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(v: f32, li: u32) -> f32 {
  partial[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let blocks = (params.classes + WG - 1u) / WG;
  let linear = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (linear >= params.batch * blocks) { return; }
  let b = linear / blocks;
  let dim = params.dim;

  for (var t = 0u; t < params.take; t++) {
    let base = (b * params.tokens + t) * dim;
    var s = 0.0;
    for (var k = li; k < dim; k += WG) { s += x[base + k]; }
    let mean = workgroup_sum(s, li) / f32(dim);
    var q = 0.0;
    for (var k = li; k < dim; k += WG) { let d = x[base + k] - mean; q += d * d; }
    let rstd = inverseSqrt(workgroup_sum(q, li) / f32(dim) + params.eps);
    for (var k = li; k < dim; k += WG) { xn[t * dim + k] = (x[base + k] - mean) * rstd * gamma[k] + beta[k]; }
  }
  workgroupBarrier();

  let c = (linear % blocks) * WG + li;
  if (c >= params.classes) { return; }
  var acc = bias[c];
  for (var k = 0u; k < dim; k++) { acc = fma(xn[k], w[k * params.classes + c], acc); }
  if (params.take == 2u) {
    var acc2 = bias_dist[c];
    for (var k = 0u; k < dim; k++) { acc2 = fma(xn[dim + k], w_dist[k * params.classes + c], acc2); }
    acc = 0.5 * (acc + acc2);
  }
  logits[b * params.classes + c] = acc;
}
