/**
 * Bounds on what protobufjs builds while decoding an untrusted file, enforced as it decodes. Its generated
 * decoders recurse into nested messages and turn every repeated value into a JS value (an int64 into a
 * Long object, a name into a string), so before any check of ours could run, a hostile file could overflow
 * the stack (subgraphs nested 100,000 deep) or the heap (millions of tiny nodes; a packed int64 field of
 * 100 MB is 100 M Long objects, several GB). While `guardedDecode` runs:
 *   - each message type's decode counts nesting depth and messages (wrapped once, below);
 *   - the Reader methods that produce repeated values count numbers and objects (Longs, strings, bytes).
 * Going over a limit throws a typed error at once. Outside guardedDecode both are a null check.
 */
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal';
import { ModelWeightError, UnsupportedModelError } from '../errors';
import { LIMITS } from './limits';

// The same protobufjs root proto.ts uses (imported directly: proto.ts imports this file).
const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.ModelProto;

interface Budget { depth: number; messages: number; numbers: number; objects: number }
let budget: Budget | null = null;

type Decode = (reader: unknown, length?: number) => unknown;

function countMessage(): void {
  const b = budget!;
  if (b.depth > LIMITS.maxNesting) throw new UnsupportedModelError(`The model nests messages more than ${LIMITS.maxNesting} levels deep (subgraphs inside subgraphs); a ViT has no subgraphs, and the file may be hostile.`);
  if (++b.messages > LIMITS.maxMessages) throw new UnsupportedModelError(`The model has more than ${LIMITS.maxMessages.toLocaleString('en')} protobuf messages (nodes, attributes, tensors); no ViT is that large.`);
}

/** Wraps the decode of every message type in the onnx namespace (nested types included). */
function wrapDecoders(ns: Record<string, unknown>, seen = new Set<unknown>()): void {
  for (const value of Object.values(ns)) {
    if (typeof value !== 'function' || seen.has(value)) continue;
    seen.add(value);
    const type = value as unknown as { decode?: Decode } & Record<string, unknown>;
    const decode = type.decode;
    if (typeof decode === 'function') {
      type.decode = function guarded(this: unknown, reader: unknown, length?: number) {
        if (!budget) return decode.call(this, reader, length);
        budget.depth++;
        try { countMessage(); return decode.call(this, reader, length); } finally { budget.depth--; }
      };
    }
    wrapDecoders(type, seen);
  }
}

function numbersError(): ModelWeightError {
  return new ModelWeightError(`The file stores more than ${LIMITS.maxTypedValues.toLocaleString('en')} numbers in typed tensor fields (float_data, int32_data…), more than the studio can decode; save the weights as raw data (onnx.numpy_helper.from_array does).`);
}

function objectsError(): ModelWeightError {
  return new ModelWeightError(`The file holds more than ${LIMITS.maxDecodedObjects.toLocaleString('en')} int64 values, strings and byte fields; no ViT has that many (int64 weights or a corrupt file?). Save the weights as float raw data.`);
}

type Proto = Record<string, (...args: unknown[]) => unknown>;
const NUMBER_READERS = ['float', 'double', 'int32', 'sint32', 'fixed32', 'sfixed32', 'bool'];
const OBJECT_READERS = ['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'string', 'bytes'];
const installed = new Map<Proto, Map<string, unknown>>();

/** Counting versions of the Reader methods; re-installed if protobufjs reconfigured its Reader since. */
function patchReaders(): void {
  const R = protobuf.Reader as unknown as { prototype: Proto };
  const B = (protobuf as unknown as { BufferReader?: { prototype: Proto } }).BufferReader;
  for (const proto of [R.prototype, B?.prototype]) {
    if (!proto) continue;
    const mine = installed.get(proto) ?? new Map<string, unknown>();
    installed.set(proto, mine);
    for (const name of [...NUMBER_READERS, ...OBJECT_READERS]) {
      if (!Object.prototype.hasOwnProperty.call(proto, name) || proto[name] === mine.get(name)) continue;
      const read = proto[name], isNumber = NUMBER_READERS.includes(name);
      const counted = function (this: unknown) {
        if (budget) {
          if (isNumber ? ++budget.numbers > LIMITS.maxTypedValues : ++budget.objects > LIMITS.maxDecodedObjects) throw isNumber ? numbersError() : objectsError();
        }
        return read.call(this);
      };
      proto[name] = counted;
      mine.set(name, counted);
    }
  }
}

wrapDecoders(onnx as unknown as Record<string, unknown>);

/** ModelProto.decode within the limits above; their errors are typed, anything else is protobufjs's. */
export function guardedDecode(bytes: Uint8Array): ModelProto {
  patchReaders();
  budget = { depth: 0, messages: 0, numbers: 0, objects: 0 };
  try {
    return onnx.ModelProto.decode(bytes);
  } finally {
    budget = null;
  }
}
