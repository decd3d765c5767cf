// qdrop_mix.wgsl: QDrop input mixing (ADFQ §5.4): out[i] = xq[i] where element i is kept, else xfp[i].
//   keep(i) ⇔ (h >> 8) < threshold, h = lowbias32(lowbias32(i) ^ key), key = lowbias32(seed ^ lowbias32(step)),
//   threshold = round(prob · 2^24) (0: never, 2^24: always). lowbias32 is C. Wellons' 32-bit integer hash
//   (xor-shift-multiply, full avalanche). Only u32 arithmetic (wrapping multiplies), so the mask is the
//   same on every GPU and in the twin (reference/train/qdrop-mix.ts); the top 24 bits are compared so
//   that threshold 2^24 still fits a u32 and prob = 1 keeps everything.
// Ownership: one element per thread, thread id = linear workgroup id · WG + local index.
// Bindings: 0 xq, 1 xfp, 2 out, 3 params.

struct Params {
  count: u32,
  step: u32,
  seed: u32,
  threshold: u32,
}

@group(0) @binding(0) var<storage, read> xq: array<f32>;
@group(0) @binding(1) var<storage, read> xfp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256;

fn lowbias32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  let key = lowbias32(params.seed ^ lowbias32(params.step));  // uniform: the compiler may hoist it
  let h = lowbias32(lowbias32(i) ^ key);
  out[i] = select(xfp[i], xq[i], (h >> 8u) < params.threshold);
}
