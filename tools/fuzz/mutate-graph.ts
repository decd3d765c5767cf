/**
 * Mutations of the decoded model's graph and metadata: cycles (a node reading its own output, a later
 * node's, two nodes feeding each other, a residual Add returning to an earlier stream tensor, Identity
 * self-loops fanning out), nodes duplicated or removed, tensors renamed or rewired, attributes corrupted,
 * metadata and opsets corrupted (deeply nested JSON included).
 */
import { node } from '../../src/engine/onnx/onnx-writer';
import type { AttributeProto, ModelProto, NodeProto } from '../../src/engine/onnx/proto';
import type { Mutator } from './mutate-bytes';
import { EDITS, edit, type ModelEdit } from './mutate-tensors';
import type { Rng } from './rng';

const nodesOf = (m: ModelProto): NodeProto[] => m.graph!.node!;
const withInputs = (m: ModelProto) => nodesOf(m).filter((n) => (n.input ?? []).length > 0);
const label = (n: NodeProto) => `${n.opType} '${n.name}'`;

/** Every tensor name the graph mentions. */
function tensorNames(m: ModelProto): string[] {
  const names = new Set<string>();
  for (const n of nodesOf(m)) for (const t of [...(n.input ?? []), ...(n.output ?? [])]) if (t) names.add(t);
  return [...names];
}

const cycle = edit((m, rng) => {
  const nodes = nodesOf(m), choice = rng.int(5);
  const n = rng.pick(withInputs(m)), k = rng.int(n.input!.length), i = nodes.indexOf(n);
  if (choice === 0) { n.input![k] = n.output![0]; return `${label(n)} reads its own output`; }
  if (choice === 1) {
    const later = rng.pick(nodes.slice(i));
    n.input![k] = later.output![0];
    return `${label(n)} reads the output of ${label(later)}`;
  }
  if (choice === 2) {
    const other = rng.pick(withInputs(m));
    n.input![k] = other.output![0];
    other.input![0] = n.output![0];
    return `${label(n)} and ${label(other)} feed each other`;
  }
  const adds = nodes.filter((a) => a.opType === 'Add' && (a.input ?? []).length === 2);
  if (choice === 3 && adds.length >= 2) {
    // A later residual Add writes an earlier one's output: the stream walk would come back to it.
    const a = rng.int(adds.length - 1), b = rng.range(a + 1, adds.length - 1);
    adds[b].output![0] = adds[a].output![0];
    return `${label(adds[b])} writes ${label(adds[a])}'s output`;
  }
  // Identity nodes that read and write the same tensor: a self-loop with fan-out.
  const t = n.input![k], copies = rng.pick([1, 3, 10, 30]);
  for (let c = 0; c < copies; c++) nodes.push(node('Identity', [t], [t], {}, `loop_${c}`));
  return `${copies} Identity self-loops on '${t}'`;
});

const dupnode = edit((m, rng) => {
  const nodes = nodesOf(m), n = rng.pick(nodes), copies = rng.pick([1, 1, 2, 20]);
  for (let c = 0; c < copies; c++) nodes.splice(rng.int(nodes.length + 1), 0, { ...n, name: `${n.name}_dup${c}` });
  return `duplicate ${label(n)} ×${copies}`;
});

const rmnode = edit((m, rng) => {
  const nodes = nodesOf(m), removed: string[] = [];
  for (let c = rng.pick([1, 1, 2, 3]); c > 0 && nodes.length > 1; c--) removed.push(label(nodes.splice(rng.int(nodes.length), 1)[0]));
  return `remove ${removed.join(', ')}`;
});

/** Renames (dangling) or rewires (to another tensor of the graph) an input, output or graph name. */
const rename = edit((m, rng) => {
  const g = m.graph!, names = tensorNames(m), choice = rng.int(6);
  const other = () => (rng.chance(0.5) ? `renamed_${rng.int(1000)}` : rng.pick(names));
  if (choice === 0) { const n = rng.pick(withInputs(m)), k = rng.int(n.input!.length), v = other(); n.input![k] = v; return `${label(n)} input ${k} -> '${v}'`; }
  if (choice === 1) { const n = rng.pick(nodesOf(m)), v = other(); n.output![0] = v; return `${label(n)} output -> '${v}'`; }
  if (choice === 2) { const v = other(); g.input![0].name = v; return `graph input -> '${v}'`; }
  if (choice === 3 && (g.initializer ?? []).length > 0) { const t = rng.pick(g.initializer!), v = other(); const was = t.name; t.name = v; return `initializer '${was}' -> '${v}'`; }
  if (choice === 4) { const v = other(); g.output![0].name = v; return `graph output -> '${v}'`; }
  const n = rng.pick(nodesOf(m)), was = n.opType, op = rng.pick(['Identity', 'Add', 'MatMul', 'Gather', 'Reshape', 'Transpose', 'Softmax', 'Conv', 'Unknown', '']);
  n.opType = op;
  return `${label({ ...n, opType: was })} op -> '${op}'`;
});

const INTS = [0, 1, -1, 2, 3, 7, 2 ** 31 - 1, 2 ** 40, -(2 ** 40), { low: 1, high: 0x80000000, unsigned: false }];
const FLOATS = [NaN, Infinity, -Infinity, 0, -1, 1e-30, 3.4e38];

const attr = edit((m, rng) => {
  const nodes = nodesOf(m).filter((n) => (n.attribute ?? []).length > 0);
  const n = rng.pick(nodes), a: AttributeProto = rng.pick(n.attribute!), choice = rng.int(6);
  if (choice === 0) n.attribute = n.attribute!.filter((x) => x !== a);
  else if (choice === 1) a.i = rng.pick(INTS) as number;
  else if (choice === 2) a.ints = Array.from({ length: rng.pick([0, 1, 4, 9, 100]) }, () => rng.pick(INTS) as number);
  else if (choice === 3) a.f = rng.pick(FLOATS);
  else if (choice === 4) a.type = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 99]) as never;
  else n.attribute!.push({ ...a });
  return `attribute '${a.name}' of ${label(n)} (${choice})`;
});

const deepJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Metadata values and the header (IR version, opsets) corrupted. */
const meta = edit((m, rng) => {
  const props = m.metadataProps ?? [], choice = rng.int(6);
  if (choice <= 2 && props.length > 0) {
    const p = rng.pick(props), v = p.value ?? '';
    // One number of the value replaced (JSON stays JSON), or the whole value garbled.
    const numbers = [...v.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)], hit = numbers.length > 0 ? rng.pick(numbers) : null;
    const swap = String(rng.pick([1e308, -1, 1.5, 0, 2 ** 53, 'null', '"x"', '[]', deepJson(50_000)]));
    const values = [v.slice(0, rng.int(v.length + 1)), '', '{', 'null', deepJson(rng.pick([100, 100_000])),
      hit ? v.slice(0, hit.index) + swap + v.slice(hit.index! + hit[0].length) : v];
    p.value = rng.pick(values);
    return `metadata '${p.key}' (${p.value.length} chars)`;
  }
  if (choice === 3) { m.irVersion = rng.pick([0, -1, 3, 101, 2 ** 40]); return `IR version ${m.irVersion}`; }
  if (choice === 4) { const o = m.opsetImport ?? []; if (o[0]) o[0].version = rng.pick(INTS) as number; return 'opset version'; }
  m.opsetImport = rng.chance(0.5) ? [] : [{ domain: 'com.example', version: 13 }];
  return 'opset imports';
});

/** 2 to 4 structural edits stacked on one model: combinations no single edit reaches. */
const stacked: ModelEdit = (m, rng) => {
  const edits = EDITS.filter((e) => e !== stacked);
  return Array.from({ length: rng.range(2, 4) }, () => rng.pick(edits)(m, rng)).join('; ');
};
const multi = edit(stacked);

export const GRAPH_MUTATORS: Record<string, Mutator> = { cycle, dupnode, rmnode, rename, attr, meta, multi };
