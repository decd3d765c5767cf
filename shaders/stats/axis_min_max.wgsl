// axis_min_max.wgsl: accumulates min and max of x [rows, cols] along one axis into f32 buffers that the
// host initialises to +inf / -inf once and then feeds one dispatch per batch.
//   entry `per_channel`: mins/maxs [cols], over all rows. One workgroup per (tile of WG columns, chunk of
//     `rows_per_group` rows); thread li owns column tile·WG + li, walks its rows (adjacent threads read
//     adjacent columns), then merges into mins/maxs[col].
//   entry `per_token`: mins/maxs [tokens], over all columns and images: row r is token r % tokens
//     (x [B·N, C] with tokens = N; attention probs [B,H,N,N] as [B·H·N, N] also give r % N = query n).
//     One workgroup per row; a workgroup-atomic reduction, then thread 0 merges.
// NaNs are ignored; -0 orders below +0. Work happens on order keys of the bit patterns (see min_max.wgsl).
// Bindings: 0 x [rows, cols], 1 mins, 2 maxs (f32, read as atomic u32 bits), 3 params.

struct Params {
  rows: u32,
  cols: u32,
  tokens: u32,
  rows_per_group: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> mins: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> maxs: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64;
var<workgroup> wg_min: atomic<u32>;
var<workgroup> wg_max: atomic<u32>;

fn key_of(bits: u32) -> u32 { return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u); }
fn bits_of(key: u32) -> u32 { return select(~key, key & 0x7fffffffu, (key & 0x80000000u) != 0u); }
fn is_nan(bits: u32) -> bool { return (bits & 0x7fffffffu) > 0x7f800000u; }

// The outputs hold plain f32 (other kernels can read them), hence compare-and-swap, not atomicMin.
fn merge(i: u32, lo: u32, hi: u32) {
  if (hi == 0u) { return; }  // no number seen (key 0 is a NaN pattern, never produced)
  var old = atomicLoad(&mins[i]);
  loop {
    if (key_of(old) <= lo) { break; }
    let r = atomicCompareExchangeWeak(&mins[i], old, bits_of(lo));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
  old = atomicLoad(&maxs[i]);
  loop {
    if (key_of(old) >= hi) { break; }
    let r = atomicCompareExchangeWeak(&maxs[i], old, bits_of(hi));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

@compute @workgroup_size(WG)
fn per_channel(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) li: u32) {
  let group = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let tiles = (params.cols + WG - 1u) / WG;
  let chunks = (params.rows + params.rows_per_group - 1u) / params.rows_per_group;
  if (group >= tiles * chunks) { return; }
  let col = (group % tiles) * WG + li;
  if (col >= params.cols) { return; }  // no barrier in this entry, so a per-thread return is fine
  let r0 = (group / tiles) * params.rows_per_group;
  let r1 = min(r0 + params.rows_per_group, params.rows);
  var lo = 0xffffffffu;
  var hi = 0u;
  for (var r = r0; r < r1; r++) {
    let b = x[r * params.cols + col];
    if (is_nan(b)) { continue; }
    lo = min(lo, key_of(b));
    hi = max(hi, key_of(b));
  }
  merge(col, lo, hi);
}

@compute @workgroup_size(WG)
fn per_token(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) li: u32) {
  let row = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (row >= params.rows) { return; }
  if (li == 0u) { atomicStore(&wg_min, 0xffffffffu); }
  workgroupBarrier();
  var lo = 0xffffffffu;
  var hi = 0u;
  for (var c = li; c < params.cols; c += WG) {
    let b = x[row * params.cols + c];
    if (is_nan(b)) { continue; }
    lo = min(lo, key_of(b));
    hi = max(hi, key_of(b));
  }
  atomicMin(&wg_min, lo);
  atomicMax(&wg_max, hi);
  workgroupBarrier();
  if (li == 0u) { merge(row % params.tokens, atomicLoad(&wg_min), atomicLoad(&wg_max)); }
}
