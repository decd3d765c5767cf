/**
 * Conversions from ONNX weight layouts to the engine's canonical ones (see vit/description.ts).
 */

/** Row-major `[rows, cols]` → `[cols, rows]`. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Conv weight `[dim, Cin, P, P]` is `[dim, Cin*P*P]` row-major with (c, ky, kx) order; canonical is its transpose. */
export function convToPatchWeight(w: Float32Array, dim: number, inChannels: number, patch: number): Float32Array {
  return transpose2d(w, dim, inChannels * patch * patch);
}

/**
 * Builds the canonical fused qkv `[dim, 3*dim]` (columns q, k, v; each heads×headDim) from up to three
 * `[dim, out]` source matrices. `column(role, h, d)` says which source and column holds q/k/v (role 0/1/2),
 * head h, channel d, which covers fused exports in any head/slot order as well as separate q, k, v layers.
 */
export function gatherQkvColumns(
  sources: Float32Array[], sourceCols: number[], dim: number, heads: number, headDim: number,
  column: (role: number, h: number, d: number) => { source: number; col: number },
): Float32Array {
  const out = new Float32Array(dim * 3 * dim);
  for (let role = 0; role < 3; role++) for (let h = 0; h < heads; h++) for (let d = 0; d < headDim; d++) {
    const { source, col } = column(role, h, d);
    const src = sources[source], stride = sourceCols[source];
    const dst = role * dim + h * headDim + d;
    for (let r = 0; r < dim; r++) out[r * 3 * dim + dst] = src[r * stride + col];
  }
  return out;
}

/** The same column gather for bias vectors. */
export function gatherQkvBias(
  sources: Float32Array[], dim: number, heads: number, headDim: number,
  column: (role: number, h: number, d: number) => { source: number; col: number },
): Float32Array {
  const out = new Float32Array(3 * dim);
  for (let role = 0; role < 3; role++) for (let h = 0; h < heads; h++) for (let d = 0; d < headDim; d++) {
    const { source, col } = column(role, h, d);
    out[role * dim + h * headDim + d] = sources[source][col];
  }
  return out;
}
