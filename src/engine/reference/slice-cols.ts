/** CPU twin of kernels/slice-cols.ts. */
export function sliceColsRef(x: Float32Array, rows: number, width: number, offset: number, cols: number): Float32Array {
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) y.set(x.subarray(r * width + offset, r * width + offset + cols), r * cols);
  return y;
}
