/**
 * A structural check of an ONNX model, run on every export (and usable on any model): default-domain
 * opset import only, known default-domain ops that exist at that opset (and no attribute that later
 * opsets turned into an input), every node input produced before use or an initializer / graph input,
 * single assignment of every tensor name, graph outputs produced, initializer data lengths matching
 * their dims and type. Returns the problems found; [] means the model passed.
 */
import { onnx, int64ToNumber, type Int64, type ModelInit, type TensorProto } from '../onnx/proto.ts';

/** Default-domain ops and the opset that introduced them. */
const KNOWN_OPS: Record<string, number> = {
  Abs: 1, Acos: 7, Acosh: 9, Add: 1, And: 1, ArgMax: 1, ArgMin: 1, Asin: 7, Asinh: 9, Atan: 7, Atanh: 9, AveragePool: 1,
  BatchNormalization: 1, BitShift: 11, Cast: 1, Ceil: 1, Celu: 12, Clip: 1, Concat: 1, Constant: 1, ConstantOfShape: 9,
  Conv: 1, ConvInteger: 10, ConvTranspose: 1, Cos: 7, Cosh: 9, CumSum: 11, DepthToSpace: 1, DequantizeLinear: 10, Div: 1,
  Dropout: 1, Einsum: 12, Elu: 1, Equal: 1, Erf: 9, Exp: 1, Expand: 8, Flatten: 1, Floor: 1, Gather: 1, GatherElements: 11,
  GatherND: 11, Gelu: 20, Gemm: 1, GlobalAveragePool: 1, Greater: 1, GreaterOrEqual: 12, HardSigmoid: 1, Identity: 1, If: 1,
  IsInf: 10, IsNaN: 9, LayerNormalization: 17, LeakyRelu: 1, Less: 1, LessOrEqual: 12, Log: 1, LogSoftmax: 1, MatMul: 1,
  MatMulInteger: 10, Max: 1, MaxPool: 1, Mean: 1, Min: 1, Mod: 10, Mul: 1, Neg: 1, Not: 1, Or: 1, Pad: 1, Pow: 1,
  QLinearConv: 10, QLinearMatMul: 10, QuantizeLinear: 10, Range: 11, Reciprocal: 1, ReduceMax: 1, ReduceMean: 1,
  ReduceMin: 1, ReduceProd: 1, ReduceSum: 1, ReduceSumSquare: 1, Relu: 1, Reshape: 1, Resize: 10, Round: 11, Shape: 1,
  Sigmoid: 1, Sign: 9, Sin: 7, Sinh: 9, Size: 1, Slice: 1, Softmax: 1, Softplus: 1, Softsign: 1, Split: 1, Sqrt: 1,
  Squeeze: 1, Sub: 1, Sum: 1, Tan: 7, Tanh: 1, Tile: 1, TopK: 1, Transpose: 1, Trilu: 14, Unsqueeze: 1, Where: 9, Xor: 1,
};

/** Attributes that became inputs at an opset: present as attributes from that opset on, the node is invalid. */
const ATTRS_REMOVED: Record<string, [string[], number]> = {
  ReduceMean: [['axes'], 18], ReduceMax: [['axes'], 18], ReduceMin: [['axes'], 18], ReduceProd: [['axes'], 18],
  ReduceSumSquare: [['axes'], 18], ReduceSum: [['axes'], 13], Unsqueeze: [['axes'], 13], Squeeze: [['axes'], 13],
  Split: [['split'], 13], Clip: [['min', 'max'], 11], Slice: [['starts', 'ends', 'axes'], 10],
};

/** Bytes per element of raw_data by TensorProto.DataType (4-bit types: 0.5). */
const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2, 21: 0.5, 22: 0.5 };
const FOUR_BIT = new Set([21, 22]);

const num = (v: Int64 | null | undefined): number => int64ToNumber(v ?? 0);

/** The problems of `model` (bytes, or a model built by onnx-writer); [] when it passes. */
export function checkGraph(model: Uint8Array | ModelInit): string[] {
  let m: ModelInit;
  try { m = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model; } catch (e) { return [`not an ONNX model: ${(e as Error).message}`]; }
  const issues: string[] = [];
  const g = m.graph;
  if (!g) return ['the model has no graph'];
  const ir = num(m.irVersion);
  const imports = m.opsetImport ?? [];
  const defaults = imports.filter((o) => !o.domain || o.domain === 'ai.onnx');
  for (const o of imports) if (o.domain && o.domain !== 'ai.onnx') issues.push(`opset import of the custom domain '${o.domain}'`);
  if (defaults.length !== 1) issues.push(`${defaults.length} default-domain opset imports (need exactly 1)`);
  const opset = defaults.length ? num(defaults[0].version) : 0;
  if (!(opset >= 7 && opset <= 23)) issues.push(`default opset ${opset} is outside 7..23`);
  if (!(ir >= 3 && ir <= 11)) issues.push(`IR version ${ir} is outside 3..11`);

  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (!name) issues.push(`${what} has an empty name`);
    else if (defined.has(name)) issues.push(`'${name}' (${what}) is defined twice`);
    defined.add(name);
  };
  for (const i of g.input ?? []) {
    define(i.name ?? '', 'graph input');
    if (!i.type?.tensorType?.elemType) issues.push(`graph input '${i.name}' has no element type`);
  }
  for (const t of g.initializer ?? []) {
    if (!(g.input ?? []).some((i) => i.name === t.name)) define(t.name ?? '', 'initializer');
    issues.push(...checkInitializer(t, ir, opset));
  }
  const nodeNames = new Set<string>();
  (g.node ?? []).forEach((n, idx) => {
    const label = `node ${idx} '${n.name ?? ''}' (${n.opType})`;
    if (n.domain && n.domain !== 'ai.onnx') issues.push(`${label} is in the custom domain '${n.domain}'`);
    const since = KNOWN_OPS[n.opType ?? ''];
    if (since === undefined) issues.push(`${label} is not a known default-domain op`);
    else if (since > opset) issues.push(`${label} needs opset ${since}; the model imports ${opset}`);
    const removed = ATTRS_REMOVED[n.opType ?? ''];
    const attrNames = new Set<string>();
    for (const a of n.attribute ?? []) {
      if (!a.name || attrNames.has(a.name)) issues.push(`${label} has an unnamed or repeated attribute '${a.name ?? ''}'`);
      attrNames.add(a.name ?? '');
      if (!a.type) issues.push(`${label}: attribute '${a.name}' has no type`);
      if (removed && opset >= removed[1] && removed[0].includes(a.name ?? '')) issues.push(`${label}: '${a.name}' is an input, not an attribute, from opset ${removed[1]}`);
    }
    if (n.name) { if (nodeNames.has(n.name)) issues.push(`${label}: node name repeated`); nodeNames.add(n.name); }
    for (const i of n.input ?? []) if (i && !defined.has(i)) issues.push(`${label} reads '${i}' before anything produces it`);
    if (!(n.output ?? []).length) issues.push(`${label} has no output`);
    for (const o of n.output ?? []) if (o) define(o, label);
  });
  for (const o of g.output ?? []) {
    if (!defined.has(o.name ?? '')) issues.push(`graph output '${o.name}' is never produced`);
    if (!o.type?.tensorType?.elemType) issues.push(`graph output '${o.name}' has no element type`);
  }
  return issues;
}

function checkInitializer(t: TensorProto, ir: number, opset: number): string[] {
  const name = `initializer '${t.name ?? ''}'`, type = t.dataType ?? 0;
  const dims = (t.dims ?? []).map((d) => num(d as Int64));
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) return [`${name} has invalid dims ${dims.join('×')}`];
  const size = dims.reduce((a, b) => a * b, 1);
  const bytes = ELEM_BYTES[type];
  if (bytes === undefined) return [`${name} has the unsupported data type ${type}`];
  const issues: string[] = [];
  if (FOUR_BIT.has(type) && (ir < 10 || opset < 21)) issues.push(`${name} is 4-bit, which needs IR ≥ 10 and opset ≥ 21`);
  if (t.dataLocation === 1) issues.push(`${name} uses external data`);
  const raw = t.rawData?.length ?? 0;
  if (raw) {
    const need = Math.ceil(size * bytes);
    if (raw !== need) issues.push(`${name} has ${raw} bytes of raw data; ${dims.join('×') || 'a scalar'} of type ${type} needs ${need}`);
    return issues;
  }
  const counts = [t.floatData, t.int32Data, t.int64Data, t.doubleData, t.uint64Data, t.stringData].map((a) => a?.length ?? 0);
  const have = Math.max(...counts);
  const need = FOUR_BIT.has(type) ? Math.ceil(size / 2) : size;
  if (have !== need) issues.push(`${name} holds ${have} values; ${dims.join('×') || 'a scalar'} needs ${need}`);
  return issues;
}
