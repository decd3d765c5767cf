// log_level.wgsl: shared function (no bindings, no entry points) for the value of a log-quantizer code.
// Code k of Δ is Δ·2^(−k/2) (log√2) or Δ·2^(−k) (base 2); code `levels` is the exact zero. The √2 level
// is computed as ldexp(s·Δ, −ceil(k/2)) with s = f32(√2) for odd k, the reference's
// 2^(−ceil(k/2))·s·Δ: the same single rounding while the level is a normal float.
// The code itself (a binary search of the host's decision thresholds) stays in each kernel: it reads
// the kernel's `thresholds` storage binding, and a storage pointer is a valid function parameter only
// under the `unrestricted_pointer_parameters` language extension, which not every browser has.
// Provides: log_level. Used by (listed in their wrappers' `libs`): quant/log_quant, calib/segment_mse,
// train/log_quant_backward.

fn log_level(k: u32, levels: u32, base2: bool, d: f32) -> f32 {
  if (k >= levels) { return 0.0; }
  if (base2) { return ldexp(d, -i32(k)); }
  let s = select(1.0, bitcast<f32>(0x3fb504f3u), (k & 1u) == 1u);  // f32(√2)
  return ldexp(s * d, -i32((k + 1u) / 2u));
}
