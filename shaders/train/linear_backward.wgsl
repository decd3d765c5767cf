// linear_backward.wgsl: gradients of the Linear layer Y[M,N] = X[M,K]·W[K,N] + bias[N] of matmul.wgsl
// (W in the canonical [in, out] layout), given dY[M,N], in three entry points:
//   input_grad:  dX[M,K] = dY·Wᵀ
//   weight_grad: dW[K,N] = Xᵀ·dY      (summed over the M = batch·tokens rows)
//   bias_grad:   db[N]   = Σ_rows dY
// With params.accumulate = 1 an entry adds to its output instead of overwriting it (a weight whose
// gradient is summed over several chunks of a mini-batch).
// Ownership: input_grad and weight_grad give each thread a 4 × 4 block of outputs (blocks numbered
// row-major, thread id = linear workgroup id · WG + local index); no shared memory, the main_rows way,
// which CPU Vulkan drivers favour. Out-of-range rows/columns read a clamped valid element and are not
// stored. bias_grad gives each thread one column, so a warp reads a row of dY coalesced.
// Bindings: 0 dy, 1 x, 2 w, 3 dx, 4 dw, 5 db, 6 params. Each entry writes only its own output; the
// wrapper binds a small scratch buffer in place of an output it does not record.

struct Params {
  m: u32,
  k: u32,
  n: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
@group(0) @binding(5) var<storage, read_write> db: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 64;

fn thread_id(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
}

// Four consecutive indices from `first`, clamped to `last`.
fn four(first: u32, last: u32) -> vec4u {
  return min(vec4u(first, first + 1u, first + 2u, first + 3u), vec4u(last));
}

// dX[r, i] = Σ_c dY[r, c] · W[i, c]: thread owns rows r0..r0+3 × inputs i0..i0+3.
@compute @workgroup_size(WG)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) li: u32) {
  let blocks_k = (params.k + 3u) / 4u;
  let t = thread_id(wid, nwg, li);
  if (t >= blocks_k * ((params.m + 3u) / 4u)) { return; }
  let r0 = (t / blocks_k) * 4u;
  let i0 = (t % blocks_k) * 4u;
  let rows = four(r0, params.m - 1u) * params.n;
  let ins = four(i0, params.k - 1u) * params.n;
  var acc: array<vec4f, 4>;  // acc[a][b]: row r0 + a, input i0 + b
  for (var c = 0u; c < params.n; c++) {
    let wv = vec4f(w[ins.x + c], w[ins.y + c], w[ins.z + c], w[ins.w + c]);
    for (var a = 0u; a < 4u; a++) { acc[a] = fma(vec4f(dy[rows[a] + c]), wv, acc[a]); }
  }
  for (var a = 0u; a < 4u; a++) {
    for (var b = 0u; b < 4u; b++) {
      if (r0 + a < params.m && i0 + b < params.k) {
        let index = (r0 + a) * params.k + i0 + b;
        dx[index] = select(0.0, dx[index], params.accumulate != 0u) + acc[a][b];
      }
    }
  }
}

// dW[i, c] = Σ_r X[r, i] · dY[r, c]: thread owns inputs i0..i0+3 × outputs c0..c0+3.
@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) li: u32) {
  let blocks_n = (params.n + 3u) / 4u;
  let t = thread_id(wid, nwg, li);
  if (t >= blocks_n * ((params.k + 3u) / 4u)) { return; }
  let i0 = (t / blocks_n) * 4u;
  let c0 = (t % blocks_n) * 4u;
  let ins = four(i0, params.k - 1u);
  let outs = four(c0, params.n - 1u);
  var acc: array<vec4f, 4>;  // acc[a][b]: input i0 + a, output c0 + b
  for (var r = 0u; r < params.m; r++) {
    let xo = r * params.k;
    let go = r * params.n;
    let g = vec4f(dy[go + outs.x], dy[go + outs.y], dy[go + outs.z], dy[go + outs.w]);
    for (var a = 0u; a < 4u; a++) { acc[a] = fma(vec4f(x[xo + ins[a]]), g, acc[a]); }
  }
  for (var a = 0u; a < 4u; a++) {
    for (var b = 0u; b < 4u; b++) {
      if (i0 + a < params.k && c0 + b < params.n) {
        let index = (i0 + a) * params.n + c0 + b;
        dw[index] = select(0.0, dw[index], params.accumulate != 0u) + acc[a][b];
      }
    }
  }
}

// db[c] = Σ_r dY[r, c]: one thread per column.
@compute @workgroup_size(WG)
fn bias_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) li: u32) {
  let c = thread_id(wid, nwg, li);
  if (c >= params.n) { return; }
  var acc = 0.0;
  for (var r = 0u; r < params.m; r++) { acc += dy[r * params.n + c]; }
  db[c] = select(0.0, db[c], params.accumulate != 0u) + acc;
}
