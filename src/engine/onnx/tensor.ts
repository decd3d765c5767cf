/**
 * Decoding TensorProto data (initializers, Constant values) into Float32Array or integer arrays.
 * Dims are validated and the byte count checked against the data actually present BEFORE allocating,
 * so absurd shapes fail fast. raw_data is little-endian and may sit at any offset inside the file buffer,
 * so it is always copied (never viewed in place as a Float32Array, which requires 4-byte alignment).
 */
import { ModelWeightError } from '../errors';
import { LIMITS } from './limits';
import { int64ToNumber, type Int64, type TensorProto } from './proto';

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const FLOAT_BYTES: Record<number, number> = { 1: 4, 10: 2, 11: 8, 16: 2 };
const INT_BYTES: Record<number, number> = { 6: 4, 7: 8 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Validated dims and element count of a tensor; `what` names it in errors. */
export function tensorShape(t: TensorProto, what: string): { dims: number[]; size: number } {
  const raw = (t.dims ?? []) as Int64[];
  if (raw.length > LIMITS.maxTensorRank) throw new ModelWeightError(`Tensor '${what}' has rank ${raw.length} (limit ${LIMITS.maxTensorRank}).`);
  const dims = raw.map(int64ToNumber);
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > LIMITS.maxDim) throw new ModelWeightError(`Tensor '${what}' has an invalid dimension (${dims.join('×')}).`);
    size *= d;
    // Checked on every step so the product never loses precision.
    if (size > LIMITS.maxTensorElements) throw new ModelWeightError(`Tensor '${what}' is too large (${dims.join('×')}; limit ${LIMITS.maxTensorElements} elements).`);
  }
  return { dims, size };
}

function checkInline(t: TensorProto, what: string): void {
  if (t.dataLocation === 1) throw new ModelWeightError(`Tensor '${what}' is stored in an external data file, which is not supported; save the model with all tensors inside the .onnx file.`);
}

/** raw_data copied to an aligned buffer after checking it holds exactly `size` elements. */
function rawBytes(t: TensorProto, what: string, size: number, elemBytes: number): Uint8Array | null {
  const raw = t.rawData;
  if (!raw || raw.length === 0) return null;
  if (raw.length !== size * elemBytes) {
    throw new ModelWeightError(`Tensor '${what}' has ${raw.length} bytes of data but its shape needs ${size * elemBytes}.`);
  }
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return copy;
}

function checkCount(what: string, have: number, size: number): void {
  if (have !== size) throw new ModelWeightError(`Tensor '${what}' has ${have} values but its shape needs ${size}.`);
}

const scratch = new DataView(new ArrayBuffer(4));
function bf16ToFloat(h: number): number {
  scratch.setUint32(0, (h & 0xffff) << 16);
  return scratch.getFloat32(0);
}

function halfToFloat(h: number): number {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A float tensor (float32, float16, bfloat16 or double) as Float32Array. */
export function tensorFloats(t: TensorProto, what: string): { dims: number[]; data: Float32Array } {
  checkInline(t, what);
  const type = t.dataType ?? 0, bytes = FLOAT_BYTES[type];
  if (!bytes) throw new ModelWeightError(`Tensor '${what}' has data type ${type}; a float tensor was expected.`);
  const { dims, size } = tensorShape(t, what);
  const raw = rawBytes(t, what, size, bytes);
  if (raw && type === DataType.FLOAT && LITTLE_ENDIAN) return { dims, data: new Float32Array(raw.buffer) };
  const out = new Float32Array(size);
  if (raw) {
    const view = new DataView(raw.buffer);
    for (let i = 0; i < size; i++) {
      if (type === DataType.FLOAT) out[i] = view.getFloat32(4 * i, true);
      else if (type === DataType.DOUBLE) out[i] = view.getFloat64(8 * i, true);
      else if (type === DataType.FLOAT16) out[i] = halfToFloat(view.getUint16(2 * i, true));
      else out[i] = bf16ToFloat(view.getUint16(2 * i, true));
    }
    return { dims, data: out };
  }
  // Typed fields: float_data for float32, double_data for double, int32_data holds 16-bit floats.
  const src: ArrayLike<number> = type === DataType.FLOAT ? (t.floatData ?? []) : type === DataType.DOUBLE ? (t.doubleData ?? []) : (t.int32Data ?? []);
  checkCount(what, src.length, size);
  for (let i = 0; i < size; i++) {
    const v = src[i];
    out[i] = type === DataType.FLOAT16 ? halfToFloat(v & 0xffff) : type === DataType.BFLOAT16 ? bf16ToFloat(v) : v;
  }
  return { dims, data: out };
}

/** An int64/int32 tensor as plain numbers; values beyond 2^53 are rejected. */
export function tensorInts(t: TensorProto, what: string): { dims: number[]; data: number[] } {
  checkInline(t, what);
  const type = t.dataType ?? 0, bytes = INT_BYTES[type];
  if (!bytes) throw new ModelWeightError(`Tensor '${what}' has data type ${type}; an integer tensor was expected.`);
  const { dims, size } = tensorShape(t, what);
  const raw = rawBytes(t, what, size, bytes);
  let data: number[];
  if (raw) {
    const view = new DataView(raw.buffer);
    data = new Array<number>(size);
    for (let i = 0; i < size; i++) data[i] = bytes === 8 ? int64ToNumber(Number(view.getBigInt64(8 * i, true))) : view.getInt32(4 * i, true);
  } else {
    const src = type === DataType.INT64 ? ((t.int64Data ?? []) as Int64[]) : (t.int32Data ?? []);
    checkCount(what, src.length, size);
    data = src.map((v) => int64ToNumber(v));
  }
  if (data.some((v) => Number.isNaN(v))) throw new ModelWeightError(`Tensor '${what}' holds an integer beyond ±2^53.`);
  return { dims, data };
}
