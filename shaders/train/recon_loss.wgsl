// recon_loss.wgsl: the reconstruction loss of ADFQ §5.4 and its gradient,
//   L_rec = coef · Σ (ŷ − y)²,  grad = ∂L_rec/∂ŷ = 2·coef·(ŷ − y),  coef = 1/(B·C)
// (summed over the tokens, mean over batch and channels; the released code's lp_loss(·).sum(1).mean()).
// Ownership: one element per thread, thread id = linear workgroup id · WG + local index; partials[g] =
// coef · Σ (ŷ − y)² over workgroup g (tree sum in workgroup memory; threads past the end add 0). The host
// or sum_partials.wgsl adds the partials.
// Bindings: 0 y_hat (the quantized module's output ŷ), 1 y_fp (the FP target y), 2 grad, 3 partials, 4 params.

struct Params {
  count: u32,
  coef: f32,
}

@group(0) @binding(0) var<storage, read> y_hat: array<f32>;
@group(0) @binding(1) var<storage, read> y_fp: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256;  // a power of two (tree reduction)
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (group * WG >= params.count) { return; }  // whole workgroup: uniform
  let i = group * WG + li;
  var sq = 0.0;
  if (i < params.count) {
    let d = y_hat[i] - y_fp[i];
    grad[i] = 2.0 * params.coef * d;
    sq = d * d;
  }
  red[li] = sq;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[group] = params.coef * red[0]; }
}
