// uniform_quant.wgsl: uniform asymmetric fake quantization (spec §2.1), optionally PPOQ (§3).
//   q = clamp(round(x/Δ) + z, 0, L−1), y = (q − z)·Δ, codes = q (u32, when write_codes != 0).
// Parameters per tensor (mode 0: entry 0), per channel (mode 1: entry i % cols) or per token
// (mode 2: entry (i / cols) % tokens). PPOQ (ppoq != 0, token mode): |x| > tau (strict) passes through
// in FP32 with the code of 0, and outliers[n] counts them per token position (atomics; host zeroes it).
// Exactness: round(x/Δ) uses the correctly rounded f32 quotient (round_quotient of
// shaders/common/exact_division.wgsl: integer long division within 8 ULP of a .5 step or for subnormal
// x). EXACT_DIV = true forces that path everywhere (tests use it).
// Δ must be a positive finite float. Ownership: one thread per element; linear workgroup id folded
// over x/y/z by the host.
// Bindings: 0 x [count], 1 delta [1|cols|tokens], 2 zero [same], 3 y [count], 4 codes [count] u32,
// 5 outliers [tokens] u32, 6 params.

struct Params {
  count: u32,
  cols: u32,
  tokens: u32,
  levels: u32,
  mode: u32,
  ppoq: u32,
  tau: f32,
  write_codes: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read> zero: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> codes: array<u32>;
@group(0) @binding(5) var<storage, read_write> outliers: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256;
override EXACT_DIV: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + li;
  if (i >= params.count) { return; }
  var j = 0u;
  if (params.mode == 1u) { j = i % params.cols; }
  if (params.mode == 2u) { j = (i / params.cols) % params.tokens; }
  let v = x[i];
  let outlier = params.ppoq != 0u && abs(v) > params.tau;
  let d = delta[j];
  let z = zero[j];
  let q = clamp(round_quotient(select(v, 0.0, outlier), d, EXACT_DIV) + z, 0.0, f32(params.levels - 1u));
  y[i] = select((q - z) * d, v, outlier);
  if (params.write_codes != 0u) { codes[i] = u32(q); }
  if (outlier) { atomicAdd(&outliers[j], 1u); }
}
