/**
 * Loads the ADFQ reference vectors (../shared/spec/vectors beside the checkout, see its README) for the calib-* suites.
 * They live outside the repository; when absent the suites skip and say so.
 */
import { existsSync, readFileSync } from 'node:fs';

export const VECTORS_DIR = process.env.ADFQ_VECTORS_DIR ?? new URL('../../shared/spec/vectors', import.meta.url).pathname;

export interface VectorCase {
  name: string;
  settings: { n_bits: number; threshold?: number; [k: string]: unknown };
  input: { shape: number[]; data: number[] };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  params: Record<string, any>;
  codes: number[];
  output: { shape: number[]; data: number[] };
  outlier_count?: number;
  outlier_count_per_token?: number[];
}

/** The cases of one vectors file, or null (with a console note) when the file is not there. */
export function loadVectors(file: string): VectorCase[] | null {
  const path = `${VECTORS_DIR}/${file}`;
  if (!existsSync(path)) {
    console.log(`calib: ${path} not found, skipping its reference-vector tests.`);
    return null;
  }
  return JSON.parse(readFileSync(path, 'utf8')).cases as VectorCase[];
}

/** (rows, cols) row-major → (cols, rows): the vectors' (out, in…) weights to the canonical [in…, out]. */
export function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c];
  return t;
}

/** Exact float32 equality that reports the two values on failure (also tells 0 from −0). */
export const sameF32 = (a: number, b: number): boolean => Object.is(Math.fround(a), Math.fround(b));
