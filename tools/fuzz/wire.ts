/**
 * The protobuf wire format as the fuzzer needs it: where every field of an ONNX file starts and ends
 * (so truncations land on structural boundaries and length prefixes can be rewritten), splicing bytes
 * into a nested message with its enclosing length prefixes fixed up, and building deeply nested
 * messages without recursion. Independent of the engine: it must not share the importer's bugs.
 */

/** Message fields the walk descends into, by message: field number → message type (onnx.proto). */
const SCHEMA: Record<string, Record<number, string>> = {
  Model: { 7: 'Graph', 8: 'Opset', 14: 'Entry' },
  Graph: { 1: 'Node', 5: 'Tensor', 11: 'ValueInfo', 12: 'ValueInfo', 13: 'ValueInfo' },
  Node: { 5: 'Attribute' },
  Attribute: { 5: 'Tensor', 6: 'Graph', 10: 'Tensor', 11: 'Graph' },
  Tensor: { 13: 'Entry' },
  ValueInfo: { 2: 'Type' },
  Type: { 1: 'TypeTensor' },
  TypeTensor: { 2: 'Shape' },
  Shape: { 1: 'Dim' },
};

export interface WireField {
  /** The message type holding the field, its number and wire type. */
  parentType: string; field: number; wire: number;
  /** Offsets: tag, length varint (LEN fields; else -1), payload, end. */
  start: number; lenPos: number; dataStart: number; end: number;
  /** Index (in the walk) of the enclosing field, -1 at the top level; nesting depth (0 = top). */
  parent: number; depth: number;
  /** The message type of the payload when the walk descended into it. */
  type: string | null;
}

export function readVarint(b: Uint8Array, pos: number): [number, number] {
  let v = 0, mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new Error('truncated varint');
    const byte = b[pos++];
    v += (byte & 0x7f) * mul;
    mul *= 128;
    if (byte < 0x80) return [v, pos];
  }
  throw new Error('varint too long');
}

export function varint(v: number): number[] {
  const out: number[] = [];
  for (let x = v; ; x = Math.floor(x / 128)) {
    if (x < 128) { out.push(x); return out; }
    out.push((x % 128) | 0x80);
  }
}

/** Every field of a (valid) ONNX file down to the messages in SCHEMA, in file order; iterative. */
export function walk(bytes: Uint8Array): WireField[] {
  const out: WireField[] = [];
  const stack = [{ type: 'Model', end: bytes.length, parent: -1, depth: 0 }];
  let pos = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (pos >= top.end) { stack.pop(); continue; }
    const start = pos;
    const [tag, p1] = readVarint(bytes, pos);
    const field = Math.floor(tag / 8), wire = tag % 8;
    let lenPos = -1, dataStart = p1, end: number;
    if (wire === 0) end = readVarint(bytes, p1)[1];
    else if (wire === 1) end = p1 + 8;
    else if (wire === 5) end = p1 + 4;
    else if (wire === 2) { const [len, p2] = readVarint(bytes, p1); lenPos = p1; dataStart = p2; end = p2 + len; }
    else throw new Error(`wire type ${wire} at ${start}`);
    if (end > top.end) throw new Error(`field at ${start} overruns its message`);
    const type = wire === 2 ? SCHEMA[top.type]?.[field] ?? null : null;
    const index = out.push({ parentType: top.type, field, wire, start, lenPos, dataStart, end, parent: top.parent, depth: top.depth, type }) - 1;
    if (type) { stack.push({ type, end, parent: index, depth: top.depth + 1 }); pos = dataStart; } else pos = end;
  }
  return out;
}

/**
 * Replaces bytes [at, at + remove) by `insert`, inside field `enclosing` (an index into `fields`, -1 for
 * the top level), and rewrites the length prefix of every enclosing message so the file stays well formed.
 */
export function splice(bytes: Uint8Array, fields: WireField[], enclosing: number, at: number, remove: number, insert: Uint8Array): Uint8Array {
  let buf = concat([bytes.subarray(0, at), insert, bytes.subarray(at + remove)]);
  let delta = insert.length - remove;
  // Innermost first: its header lies after its parents' headers, so their offsets do not move.
  for (let f = enclosing; f >= 0; f = fields[f].parent) {
    const { lenPos, dataStart, end } = fields[f];
    const fresh = Uint8Array.from(varint(end - dataStart + delta));
    buf = concat([buf.subarray(0, lenPos), fresh, buf.subarray(dataStart)]);
    delta += fresh.length - (dataStart - lenPos);
  }
  return buf;
}

/**
 * The file cut at `at` inside field `enclosing` (-1: top level) so that it stays well formed: the rest of
 * the enclosing top-level field is dropped and each enclosing message's length shrinks to end there, so
 * the importer gets a valid file holding a prefix of the graph (its first k nodes, half a tensor's
 * fields…); the top-level fields after it (opset imports, metadata) are kept.
 */
export function cleanCut(bytes: Uint8Array, fields: WireField[], enclosing: number, at: number): Uint8Array {
  let buf: Uint8Array = bytes.slice(0, at), tail = at;
  // Innermost first; an outer header lies before every inner one, so its offsets still hold.
  for (let f = enclosing; f >= 0; f = fields[f].parent) {
    const { lenPos, dataStart, end } = fields[f];
    buf = concat([buf.subarray(0, lenPos), Uint8Array.from(varint(buf.length - dataStart)), buf.subarray(dataStart)]);
    tail = end;
  }
  return concat([buf, bytes.subarray(tail)]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** A LEN field (tag + length + payload). */
export function lenField(field: number, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.from([...varint(field * 8 + 2), ...varint(payload.length)]), payload]);
}

export const strField = (field: number, s: string): Uint8Array => lenField(field, new TextEncoder().encode(s));
export const intField = (field: number, v: number): Uint8Array => Uint8Array.from([...varint(field * 8), ...varint(v)]);

/**
 * `layers` nested messages, outermost first: layer i is its prefix bytes then a LEN field `field` holding
 * layer i + 1; the innermost holds `core`. Sizes are computed inside out, then written once: linear.
 */
export function nest(layers: { prefix: Uint8Array; field: number }[], core: Uint8Array): Uint8Array {
  const sizes = new Array<number>(layers.length + 1);
  sizes[layers.length] = core.length;
  for (let i = layers.length - 1; i >= 0; i--) {
    const inner = sizes[i + 1];
    sizes[i] = layers[i].prefix.length + varint(layers[i].field * 8 + 2).length + varint(inner).length + inner;
  }
  const out = new Uint8Array(sizes[0]);
  let o = 0;
  layers.forEach((l, i) => {
    out.set(l.prefix, o); o += l.prefix.length;
    const head = [...varint(l.field * 8 + 2), ...varint(sizes[i + 1])];
    out.set(head, o); o += head.length;
  });
  out.set(core, o);
  return out;
}
