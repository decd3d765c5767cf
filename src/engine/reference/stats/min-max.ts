/**
 * CPU twins of kernels/stats/min-max.ts and axis-min-max.ts. Batches are row-major [rows, cols] f32
 * arrays; NaNs are skipped (and counted for the whole-tensor min/max). Math.min/max order -0 below +0,
 * the same order as the GPU's bit-pattern keys.
 */
export interface MinMaxRef { min: number; max: number; nans: number }

export function minMaxRef(batches: readonly Float32Array[]): MinMaxRef {
  let min = Infinity, max = -Infinity, nans = 0;
  for (const x of batches) {
    for (const v of x) {
      if (Number.isNaN(v)) { nans++; continue; }
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return { min, max, nans };
}

/** min/max per column c over every row of every batch. */
export function channelMinMaxRef(batches: readonly Float32Array[], cols: number): { min: Float32Array; max: Float32Array } {
  const min = new Float32Array(cols).fill(Infinity), max = new Float32Array(cols).fill(-Infinity);
  for (const x of batches) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i], c = i % cols;
      if (Number.isNaN(v)) continue;
      min[c] = Math.min(min[c], v);
      max[c] = Math.max(max[c], v);
    }
  }
  return { min, max };
}

/** min/max per token position n = row % tokens over all columns, rows and batches. */
export function tokenMinMaxRef(batches: readonly Float32Array[], cols: number, tokens: number): { min: Float32Array; max: Float32Array } {
  const min = new Float32Array(tokens).fill(Infinity), max = new Float32Array(tokens).fill(-Infinity);
  for (const x of batches) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i], n = Math.floor(i / cols) % tokens;
      if (Number.isNaN(v)) continue;
      min[n] = Math.min(min[n], v);
      max[n] = Math.max(max[n], v);
    }
  }
  return { min, max };
}
