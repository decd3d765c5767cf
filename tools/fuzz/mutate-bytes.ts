/**
 * Mutations on the bytes of a seed file, guided by its wire layout (wire.ts): bit flips and overwrites
 * (half of them on field headers, where they change structure rather than a weight's value),
 * truncation at field boundaries, lying length prefixes, fields duplicated or deleted, and subgraphs
 * or types nested thousands of levels deep.
 */
import type { Rng } from './rng';
import { cleanCut, concat, intField, lenField, nest, splice, strField, varint, type WireField } from './wire';

export interface Seed { name: string; bytes: Uint8Array; fields: WireField[] }
export interface Mutation { bytes: Uint8Array; what: string }
export type Mutator = (seed: Seed, rng: Rng) => Mutation;

/** A position: uniform over the file, or on/just after a random field's tag and length bytes. */
function position(seed: Seed, rng: Rng): number {
  if (rng.chance(0.5)) return rng.int(seed.bytes.length);
  const f = rng.pick(seed.fields);
  return Math.min(seed.bytes.length - 1, f.start + rng.int(Math.max(1, f.dataStart - f.start) + 2));
}

const MAGIC = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x12, 0x1a, 0x3a];

const bitflip: Mutator = (seed, rng) => {
  const bytes = seed.bytes.slice(), flips = rng.range(1, 8), at: number[] = [];
  for (let k = 0; k < flips; k++) {
    const p = position(seed, rng), bit = rng.int(8);
    bytes[p] ^= 1 << bit;
    at.push(p * 8 + bit);
  }
  return { bytes, what: `flip bits ${at.join(',')}` };
};

const overwrite: Mutator = (seed, rng) => {
  const bytes = seed.bytes.slice(), p = position(seed, rng), n = rng.range(1, 16);
  for (let k = 0; k < n && p + k < bytes.length; k++) bytes[p + k] = rng.chance(0.5) ? rng.pick(MAGIC) : rng.int(256);
  return { bytes, what: `overwrite ${n} bytes at ${p}` };
};

/**
 * Cut at a field's start, payload start or end (±1), at any depth down to tensors and attributes: the
 * bytes as they are (a truncated download), or half the time a clean cut (wire.ts cleanCut) that leaves
 * a valid file holding only a prefix of the model.
 */
const truncate: Mutator = (seed, rng) => {
  const f = rng.pick(seed.fields);
  if (rng.chance(0.5)) {
    const at = rng.pick([f.start, f.end]);
    return { bytes: cleanCut(seed.bytes, seed.fields, f.parent, at), what: `clean cut at ${at} (${f.parentType}.${f.field})` };
  }
  const base = rng.pick([f.start, f.dataStart, f.end]), cut = Math.max(1, Math.min(seed.bytes.length - 1, base + rng.pick([0, 0, -1, 1])));
  return { bytes: seed.bytes.slice(0, cut), what: `truncate at ${cut} (${f.parentType}.${f.field} [${f.start}, ${f.end}))` };
};

/** Every cut point of the sweep: each field boundary at the top level and inside graph, node and tensor messages. */
export function sweepPoints(seed: Seed): { at: number; enclosing: number }[] {
  const points = new Map<string, { at: number; enclosing: number }>();
  for (const f of seed.fields) {
    if (!['Model', 'Graph', 'Node', 'Tensor'].includes(f.parentType)) continue;
    for (const at of [f.start, f.end]) if (at > 0 && at < seed.bytes.length) points.set(`${at}:${f.parent}`, { at, enclosing: f.parent });
  }
  return [...points.values()];
}

/** Sweep case k of a seed: point k >> 1, cut raw (even k) or clean (odd k). */
export function sweepCut(seed: Seed, k: number): Mutation {
  const { at, enclosing } = sweepPoints(seed)[k >> 1];
  return k % 2 ? { bytes: cleanCut(seed.bytes, seed.fields, enclosing, at), what: `sweep: clean cut at ${at}` } : { bytes: seed.bytes.slice(0, at), what: `sweep: truncate at ${at}` };
}

/** A LEN field's length prefix rewritten (enclosing lengths untouched, so the lie spills over). */
const length: Mutator = (seed, rng) => {
  const lens = seed.fields.filter((f) => f.wire === 2);
  const f = rng.pick(lens), len = f.end - f.dataStart;
  const v = rng.pick([0, Math.max(0, len - 1), len + 1, rng.int(len + 1), len + rng.range(2, 1000), 2 ** 31 - 1, 2 ** 32 + 5, 2 ** 53]);
  const bytes = concat([seed.bytes.subarray(0, f.lenPos), Uint8Array.from(varint(v)), seed.bytes.subarray(f.dataStart)]);
  return { bytes, what: `length of ${f.parentType}.${f.field} at ${f.start}: ${len} -> ${v}` };
};

/**
 * A field copied right after itself (a second graph, raw_data, dims entry, node…), lengths fixed; small
 * fields sometimes 100,000 times (fan-out: one tensor read by 100,000 nodes, a huge rank, …).
 */
const fielddup: Mutator = (seed, rng) => {
  const f = rng.pick(seed.fields), copies = rng.pick(f.end - f.start <= 100 ? [1, 1, 2, 7, 100_000] : [1, 1, 2, 7]);
  const copy = seed.bytes.subarray(f.start, f.end);
  const bytes = splice(seed.bytes, seed.fields, f.parent, f.end, 0, concat(new Array<Uint8Array>(copies).fill(copy)));
  return { bytes, what: `duplicate ${f.parentType}.${f.field} at ${f.start} ×${copies}` };
};

const fielddel: Mutator = (seed, rng) => {
  const f = rng.pick(seed.fields);
  return { bytes: splice(seed.bytes, seed.fields, f.parent, f.start, f.end - f.start, new Uint8Array(0)), what: `delete ${f.parentType}.${f.field} at ${f.start}` };
};

/** Nested subgraphs (If node → then_branch graph → If node → …) or nested sequence types, `depth` levels. */
export function nestedPayload(kind: 'graph' | 'type', depth: number): { field: number; bytes: Uint8Array } {
  if (kind === 'graph') {
    // Per level: node {op_type, attribute {name, type GRAPH, g {…}}} then graph {node {…}}.
    const node = { prefix: concat([strField(4, 'If'), strField(1, 'cond')]), field: 5 };
    const attrib = { prefix: concat([strField(1, 'then_branch'), intField(20, 5)]), field: 6 };
    const graph = { prefix: strField(2, 'g'), field: 1 };
    const layers = Array.from({ length: depth }, () => [node, attrib, graph]).flat();
    return { field: 1, bytes: nest(layers, strField(4, 'Identity')) };
  }
  // value_info {name, type {sequence_type {elem_type {sequence_type {…}}}}}.
  const seq = { prefix: new Uint8Array(0), field: 4 }, elem = { prefix: new Uint8Array(0), field: 1 };
  const layers = [{ prefix: strField(1, 'nested_type'), field: 2 }, ...Array.from({ length: depth }, () => [seq, elem]).flat()];
  return { field: 13, bytes: nest(layers, lenField(1, intField(1, 1))) };
}

/** Start-group tags of an unknown field (protobufjs skips groups recursively), never closed. */
const openGroups = (depth: number) => Uint8Array.from({ length: 2 * depth }, (_, i) => (i % 2 ? 0x06 : 0x9b));

const nested: Mutator = (seed, rng) => {
  const kind = rng.pick(['graph', 'type', 'group'] as const), depth = rng.pick([2, 30, 300, 3000, 30000, 100000]);
  const graphIndex = seed.fields.findIndex((f) => f.parentType === 'Model' && f.field === 7);
  const g = seed.fields[graphIndex];
  const p = kind === 'group' ? null : nestedPayload(kind, depth);
  const bytes = splice(seed.bytes, seed.fields, graphIndex, g.end, 0, p ? lenField(p.field, p.bytes) : openGroups(depth));
  return { bytes, what: `${kind} nested ${depth} deep` };
};

export const BYTE_MUTATORS: Record<string, Mutator> = { bitflip, overwrite, truncate, length, fielddup, fielddel, nested };
