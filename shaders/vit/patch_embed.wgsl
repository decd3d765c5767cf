// patch_embed.wgsl: image [B, Cin, H, W] -> tokens [B·N, dim] with the prefix tokens and position
// embedding in place: row b·N + t is prefix[t] + pos[t] for t < prefix_count (cls, then dist), and
// conv(patch p) + bias + pos[t] for t = prefix_count + p, patches row-major over the grid.
// It is matmul.wgsl as an implicit GEMM: the A tile is gathered from the image on the fly (im2col
// without the buffer), A[r, k] = image[b, c, py·P + ky, px·P + kx] with k = (c·P + ky)·P + kx, which
// is the row order of the weight [Cin·P·P, dim]. Prefix rows gather zeros and skip the conv in the store.
// Ownership as in matmul.wgsl: a (4·WG_Y) × (4·WG_X) output tile per workgroup, linear id over tiles.
// Entry `main_rows`: matmul.wgsl's `main_rows` ownership (ROWS token rows × 4 columns per thread, no
// shared memory), for CPU Vulkan drivers.
// Bindings: 0 image, 1 weight, 2 bias, 3 prefix [prefix_count, dim], 4 pos [N, dim], 5 y, 6 params.

struct Params {
  rows: u32,          // B·N
  tokens: u32,        // N = prefix_count + grid_h·grid_w
  prefix_count: u32,
  dim: u32,
  k_size: u32,        // Cin·P·P
  channels: u32,
  height: u32,
  width: u32,
  patch_size: u32,
  grid_w: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> prefix: array<f32>;
@group(0) @binding(4) var<storage, read> pos: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 16;
const R: u32 = 4u;
override TILE_M: u32 = WG_Y * R;
override TILE_N: u32 = WG_X * R;
override A_STRIDE: u32 = TILE_M + 1u;

var<workgroup> a_tile: array<f32, TILE_K * A_STRIDE>;  // [k][m]
var<workgroup> b_tile: array<f32, TILE_K * TILE_N>;    // [k][n]

// im2col on the fly: element k of token row r; zero for prefix rows.
fn patch_pixel(r: u32, k: u32) -> f32 {
  let t = r % params.tokens;
  if (t < params.prefix_count) { return 0.0; }
  let b = r / params.tokens;
  let p = t - params.prefix_count;
  let pp = params.patch_size * params.patch_size;
  let c = k / pp;
  let ky = (k % pp) / params.patch_size;
  let kx = k % params.patch_size;
  let iy = (p / params.grid_w) * params.patch_size + ky;
  let ix = (p % params.grid_w) * params.patch_size + kx;
  return image[((b * params.channels + c) * params.height + iy) * params.width + ix];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let tiles_n = (params.dim + TILE_N - 1u) / TILE_N;
  let linear = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (linear >= tiles_n * ((params.rows + TILE_M - 1u) / TILE_M)) { return; }  // whole workgroup: uniform
  let row0 = (linear / tiles_n) * TILE_M;
  let col0 = (linear % tiles_n) * TILE_N;
  let threads = WG_X * WG_Y;

  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < params.k_size; k0 += TILE_K) {
    // Consecutive threads gather consecutive k (mostly kx: adjacent pixels) and read adjacent W columns.
    for (var e = li; e < TILE_M * TILE_K; e += threads) {
      let m = e / TILE_K;
      let gr = row0 + m;
      let gk = k0 + e % TILE_K;
      var v = 0.0;
      if (gr < params.rows && gk < params.k_size) { v = patch_pixel(gr, gk); }
      a_tile[(e % TILE_K) * A_STRIDE + m] = v;
    }
    for (var e = li; e < TILE_K * TILE_N; e += threads) {
      let gk = k0 + e / TILE_N;
      let gc = col0 + e % TILE_N;
      var v = 0.0;
      if (gk < params.k_size && gc < params.dim) { v = weight[gk * params.dim + gc]; }
      b_tile[e] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < R; i++) { a[i] = a_tile[kk * A_STRIDE + lid.y + i * WG_Y]; }
      for (var j = 0u; j < R; j++) { b[j] = b_tile[kk * TILE_N + lid.x + j * WG_X]; }
      for (var i = 0u; i < R; i++) {
        for (var j = 0u; j < R; j++) { acc[i * R + j] = fma(a[i], b[j], acc[i * R + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < R; i++) {
    let r = row0 + lid.y + i * WG_Y;
    for (var j = 0u; j < R; j++) {
      let c = col0 + lid.x + j * WG_X;
      if (r < params.rows && c < params.dim) {
        let t = r % params.tokens;
        var v: f32;
        if (t < params.prefix_count) { v = prefix[t * params.dim + c]; }  // cls / dist rows: no conv
        else { v = acc[i * R + j] + bias[c]; }
        y[r * params.dim + c] = v + pos[t * params.dim + c];
      }
    }
  }
}

const ROWS: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn main_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_id) lid: vec3u) {
  let tiles_n = (params.dim + 4u * WG_X - 1u) / (4u * WG_X);
  let linear = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (linear >= tiles_n * ((params.rows + ROWS * WG_Y - 1u) / (ROWS * WG_Y))) { return; }
  let row0 = (linear / tiles_n) * ROWS * WG_Y + lid.y * ROWS;
  let col0 = (linear % tiles_n) * 4u * WG_X + lid.x * 4u;
  if (row0 >= params.rows || col0 >= params.dim) { return; }
  let last = params.dim - 1u;
  let cols = vec4u(col0, min(col0 + 1u, last), min(col0 + 2u, last), min(col0 + 3u, last));
  var acc: array<vec4<f32>, ROWS>;
  for (var kk = 0u; kk < params.k_size; kk++) {
    let o = kk * params.dim;
    let b = vec4f(weight[o + cols.x], weight[o + cols.y], weight[o + cols.z], weight[o + cols.w]);
    for (var i = 0u; i < ROWS; i++) { acc[i] = fma(vec4f(patch_pixel(min(row0 + i, params.rows - 1u), kk)), b, acc[i]); }
  }
  for (var i = 0u; i < ROWS; i++) {
    let r = row0 + i;
    let t = r % params.tokens;
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + j;
      if (r < params.rows && c < params.dim) {
        var v: f32;
        if (t < params.prefix_count) { v = prefix[t * params.dim + c]; }
        else { v = acc[i][j] + bias[c]; }
        y[r * params.dim + c] = v + pos[t * params.dim + c];
      }
    }
  }
}
