// attention.wgsl: multi-head self-attention from a fused qkv matrix, in two entry points.
//   scores_softmax: P[b, h, i, :] = softmax(scale · q_i · Kᵀ) (row max subtracted before exp)
//   weighted_sum:   out[b·N + i, h·hd + d] = Σ_j P[b, h, i, j] · v[j, d]
// qkv is [B·N, 3·dim] with columns q (head h at h·hd ..), then k, then v; out is [B·N, dim].
// P doubles as the scratch between the two passes and as the attention-map output for statistics.
// Ownership: one workgroup per query row (b, h, i), linear id = (b·H + h)·N + i, folded over x/y/z.
//   scores_softmax: WG threads stride over the keys j; two shared-memory reductions (max, sum).
//   weighted_sum: thread t owns dim d = t % hd of key slice t / hd (WG/hd slices, WG >= hd);
//   the slices' partial sums are added through shared memory.
// Entry `rows` does both passes for one query row per THREAD, with no shared memory and no barriers
// (a thread per row, WG rows per workgroup): CPU Vulkan drivers run it several times faster, while GPUs
// want the workgroup-per-row entries above.
// Entries `rows_probs` and `rows_sum` are `rows` split in two (same thread-per-row ownership), so a
// quantized model can fake-quantize the probabilities between softmax and P·v; rows_sum reads `probs`.
// Bindings: 0 qkv, 1 probs [B, H, N, N], 2 out [B·N, dim], 3 params.

struct Params {
  batch: u32,
  tokens: u32,
  heads: u32,
  head_dim: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> probs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64;              // power of two, >= head_dim for weighted_sum
override MAX_HEAD_DIM: u32 = 256;
var<workgroup> q_row: array<f32, MAX_HEAD_DIM>;
var<workgroup> partial: array<f32, WG>;

fn reduce(v: f32, li: u32, is_max: bool) -> f32 {
  partial[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      if (is_max) { partial[li] = max(partial[li], partial[li + s]); } else { partial[li] += partial[li + s]; }
    }
    workgroupBarrier();
  }
  let r = partial[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn scores_softmax(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) li: u32) {
  let row = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let n = params.tokens;
  if (row >= params.batch * params.heads * n) { return; }
  let i = row % n;
  let h = (row / n) % params.heads;
  let b = row / (n * params.heads);
  let hd = params.head_dim;
  let stride = 3u * params.heads * hd;
  let q_base = (b * n + i) * stride + h * hd;
  let k_base = b * n * stride + params.heads * hd + h * hd;  // column of k for head h, token 0
  for (var d = li; d < hd; d += WG) { q_row[d] = qkv[q_base + d] * params.scale; }
  workgroupBarrier();

  let p_base = row * n;
  var m = -3.402823466e+38f;  // -FLT_MAX: a real number, so exp(s - m) never sees inf - inf
  for (var j = li; j < n; j += WG) {
    var s = 0.0;
    for (var d = 0u; d < hd; d++) { s = fma(q_row[d], qkv[k_base + j * stride + d], s); }
    probs[p_base + j] = s;
    m = max(m, s);
  }
  let row_max = reduce(m, li, true);
  var sum = 0.0;
  for (var j = li; j < n; j += WG) {
    let e = exp(probs[p_base + j] - row_max);  // this thread wrote probs[p_base + j] itself
    probs[p_base + j] = e;
    sum += e;
  }
  let inv = 1.0 / reduce(sum, li, false);
  for (var j = li; j < n; j += WG) { probs[p_base + j] *= inv; }
}

@compute @workgroup_size(WG)
fn weighted_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) li: u32) {
  let row = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let n = params.tokens;
  if (row >= params.batch * params.heads * n) { return; }
  let i = row % n;
  let h = (row / n) % params.heads;
  let b = row / (n * params.heads);
  let hd = params.head_dim;
  let stride = 3u * params.heads * hd;
  let v_base = b * n * stride + 2u * params.heads * hd + h * hd;
  let slices = WG / hd;
  let d = li % hd;
  let slice = li / hd;
  var acc = 0.0;
  if (slice < slices) {
    for (var j = slice; j < n; j += slices) { acc = fma(probs[row * n + j], qkv[v_base + j * stride + d], acc); }
  }
  partial[li] = acc;
  workgroupBarrier();
  if (li < hd) {
    var total = 0.0;
    for (var s = 0u; s < slices; s++) { total += partial[s * hd + li]; }
    out[(b * n + i) * params.heads * hd + h * hd + li] = total;
  }
}

// One query row per thread, for the `rows*` entries: `row` = (b·H + h)·N + i.
fn thread_row(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
}

// probs[row, :] = softmax(scale · q_i · Kᵀ), max subtracted, for the thread's own row.
fn row_softmax(row: u32) {
  let n = params.tokens;
  let i = row % n;
  let h = (row / n) % params.heads;
  let b = row / (n * params.heads);
  let hd = params.head_dim;
  let stride = 3u * params.heads * hd;
  let q_base = (b * n + i) * stride + h * hd;
  let k_base = b * n * stride + params.heads * hd + h * hd;
  let p_base = row * n;
  var m = -3.402823466e+38f;
  for (var j = 0u; j < n; j++) {
    var s = 0.0;
    for (var d = 0u; d < hd; d++) { s = fma(qkv[q_base + d] * params.scale, qkv[k_base + j * stride + d], s); }
    probs[p_base + j] = s;
    m = max(m, s);
  }
  var sum = 0.0;
  for (var j = 0u; j < n; j++) {
    let e = exp(probs[p_base + j] - m);
    probs[p_base + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < n; j++) { probs[p_base + j] *= inv; }
}

// out row i of head h = Σ_j probs[row, j] · v_j, for the thread's own row.
fn row_weighted_sum(row: u32) {
  let n = params.tokens;
  let i = row % n;
  let h = (row / n) % params.heads;
  let b = row / (n * params.heads);
  let hd = params.head_dim;
  let stride = 3u * params.heads * hd;
  let v_base = b * n * stride + 2u * params.heads * hd + h * hd;
  let p_base = row * n;
  let o_base = (b * n + i) * params.heads * hd + h * hd;
  for (var d = 0u; d < hd; d++) {
    var acc = 0.0;
    for (var j = 0u; j < n; j++) { acc = fma(probs[p_base + j], qkv[v_base + j * stride + d], acc); }
    out[o_base + d] = acc;
  }
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row >= params.batch * params.heads * params.tokens) { return; }
  row_softmax(row);
  row_weighted_sum(row);
}

// `rows` in two passes, so a quantizer can run on the probabilities in between.
@compute @workgroup_size(WG)
fn rows_probs(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row < params.batch * params.heads * params.tokens) { row_softmax(row); }
}

@compute @workgroup_size(WG)
fn rows_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row < params.batch * params.heads * params.tokens) { row_weighted_sum(row); }
}
