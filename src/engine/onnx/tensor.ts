/**
 * Decoding TensorProto data (initializers, Constant values) into Float32Array or integer arrays.
 * tensorShape validates the dims and checks them against the data actually stored (raw_data bytes or the
 * typed field's count) BEFORE anything is allocated, so a small file claiming a huge tensor fails fast;
 * every decoder (here and export/read-export.ts) starts with it. raw_data is little-endian and may sit at
 * any offset inside the file buffer, so it is always copied (never viewed in place as a Float32Array,
 * which requires 4-byte alignment).
 */
import { ModelWeightError } from '../errors';
import { LIMITS } from './limits';
import { externalDataError, int64ToNumber, type Int64, type TensorProto } from './proto';

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const FLOAT_BYTES: Record<number, number> = { 1: 4, 10: 2, 11: 8, 16: 2 };
const INT_BYTES: Record<number, number> = { 6: 4, 7: 8 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type TypedField = 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData';
/**
 * Where each TensorProto data type keeps its elements (onnx.proto): the typed field, entries per element
 * there, and raw_data bytes per element (null: strings have no raw form). 4-bit types pack two per entry.
 */
const STORAGE: Record<number, [TypedField, number, number | null]> = {
  1: ['floatData', 1, 4], 2: ['int32Data', 1, 1], 3: ['int32Data', 1, 1], 4: ['int32Data', 1, 2], 5: ['int32Data', 1, 2],
  6: ['int32Data', 1, 4], 7: ['int64Data', 1, 8], 8: ['stringData', 1, null], 9: ['int32Data', 1, 1], 10: ['int32Data', 1, 2],
  11: ['doubleData', 1, 8], 12: ['uint64Data', 1, 4], 13: ['uint64Data', 1, 8], 14: ['floatData', 2, 8], 15: ['doubleData', 2, 16],
  16: ['int32Data', 1, 2], 17: ['int32Data', 1, 1], 18: ['int32Data', 1, 1], 19: ['int32Data', 1, 1], 20: ['int32Data', 1, 1],
  21: ['int32Data', 0.5, 0.5], 22: ['int32Data', 0.5, 0.5], 23: ['int32Data', 0.5, 0.5],
};

function checkInline(t: TensorProto, what: string): void {
  const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? null;
  if (t.dataLocation === 1 || (t.externalData ?? []).length > 0) throw externalDataError(what, location);
  if (t.dataLocation) throw new ModelWeightError(`Tensor '${what}' has an unknown data location (${t.dataLocation}); the file is corrupt or from a newer ONNX version.`);
}

/** The stored data must hold exactly `size` elements of the tensor's type (unknown types are left to the decoders). */
function checkStored(t: TensorProto, what: string, size: number): void {
  const storage = STORAGE[t.dataType ?? 0];
  if (!storage) return;
  const [field, perEntry, rawBytes] = storage;
  const raw = t.rawData?.length ?? 0;
  if (raw > 0) {
    if (rawBytes === null) throw new ModelWeightError(`Tensor '${what}' holds strings but has raw bytes; the file is corrupt.`);
    const need = Math.ceil(size * rawBytes);
    if (raw !== need) throw new ModelWeightError(`Tensor '${what}' has ${raw} bytes of data but its shape needs ${need}; the file is corrupt.`);
    return;
  }
  const have = (t[field] as ArrayLike<unknown> | null | undefined)?.length ?? 0, need = Math.ceil(size * perEntry);
  if (have !== need) throw new ModelWeightError(`Tensor '${what}' has ${have} stored values but its shape needs ${need}; the file is corrupt.`);
}

/** Validated dims and element count of a tensor, checked against the data it stores; `what` names it in errors. */
export function tensorShape(t: TensorProto, what: string): { dims: number[]; size: number } {
  checkInline(t, what);
  const raw = (t.dims ?? []) as Int64[];
  if (raw.length > LIMITS.maxTensorRank) throw new ModelWeightError(`Tensor '${what}' has rank ${raw.length} (limit ${LIMITS.maxTensorRank}).`);
  const dims = raw.map(int64ToNumber);
  // A 64-bit dim beyond 2^53 reads as NaN; messages show the file's value instead.
  const shown = () => raw.map((d, i) => (Number.isNaN(dims[i]) ? String(d) : dims[i])).join('×');
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > LIMITS.maxDim) throw new ModelWeightError(`Tensor '${what}' has an invalid dimension (${shown()}).`);
    size *= d;
    // Checked on every step so the product never loses precision.
    if (size > LIMITS.maxTensorElements) throw new ModelWeightError(`Tensor '${what}' is too large (${dims.join('×')}; limit ${LIMITS.maxTensorElements} elements).`);
  }
  checkStored(t, what, size);
  return { dims, size };
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
  const { dims, size } = tensorShape(t, what);
  const type = t.dataType ?? 0, bytes = FLOAT_BYTES[type];
  if (!bytes) throw new ModelWeightError(`Tensor '${what}' has data type ${type}; a float tensor was expected.`);
  const raw = rawBytes(t, what, size, bytes);
  if (raw && type === DataType.FLOAT && LITTLE_ENDIAN) return { dims, data: new Float32Array(raw.buffer) };
  if (raw) {
    const out = new Float32Array(size);
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
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = src[i];
    out[i] = type === DataType.FLOAT16 ? halfToFloat(v & 0xffff) : type === DataType.BFLOAT16 ? bf16ToFloat(v) : v;
  }
  return { dims, data: out };
}

/** An int64/int32 tensor as plain numbers; values beyond 2^53 are rejected. */
export function tensorInts(t: TensorProto, what: string): { dims: number[]; data: number[] } {
  const { dims, size } = tensorShape(t, what);
  const type = t.dataType ?? 0, bytes = INT_BYTES[type];
  if (!bytes) throw new ModelWeightError(`Tensor '${what}' has data type ${type}; an integer tensor was expected.`);
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
