/**
 * The canonical ViT forward as ONNX nodes, with a quantizer at every site QuantViTRunner quantizes
 * (reference/vit-forward-quant.ts is the same computation on the CPU). Weights and quantizers are
 * supplied by the caller; this file only lays out the float graph around them. Layout: README.md.
 */
import { attr } from '../onnx/onnx-writer.ts';
import type { ActQuant, ViTQuantParams } from '../quant/params.ts';
import type { BlockWeights, ViTModel } from '../vit/description.ts';
import type { GraphBuilder } from './graph-builder.ts';

export interface VitGraphParts {
  g: GraphBuilder;
  /** Name of the (dequantized or fake-quantized) weight tensor of a layer, e.g. 'blocks.0.attn.qkv'. */
  weight(name: string): string;
  /** Writes the quantizer of `site` on tensor x and returns the quantized tensor's name. */
  quant(site: string, x: string, q: ActQuant): string;
}

/** Builds the graph from the image input to the logits; returns the output tensor's name. */
export function buildVitGraph(model: ViTModel, params: ViTQuantParams, parts: VitGraphParts, input: string, output: string): string {
  const { g } = parts, c = model.config, w = model.weights;
  let x = embed(model, params, parts, input);
  w.blocks.forEach((b, i) => { x = block(model, params, parts, x, i, b); });
  const head = (token: number, scope: string, name: string, wb: Float32Array, site: string, out?: string) => {
    const row = g.op('Gather', [x, g.constI64([token], true)], `/${scope}/Gather`, { axis: attr.int(1) });
    const h = layerNorm(g, row, 'norm', w.normGamma, w.normBeta, c.lnEps, `/${scope}/norm`);
    const hq = parts.quant(site, h, params.headIn);
    const y = g.op('MatMul', [hq, parts.weight(name)], `/${scope}/MatMul`);
    return g.op('Add', [y, g.has(`${name}.bias`) ? `${name}.bias` : g.f32(`${name}.bias`, wb)], `/${scope}/Add`, {}, out);
  };
  if (!w.headDistW || !w.headDistB) return head(0, 'head', 'head', w.headB, 'head-in', output);
  const cls = head(0, 'head', 'head', w.headB, 'head-in');
  const dist = head(1, 'head_dist', 'head_dist', w.headDistB, 'head-in.dist');
  return g.op('Mul', [g.op('Add', [cls, dist], '/head_avg/Add'), g.constF32(0.5)], '/head_avg/Mul', {}, output);
}

/** Patch Conv, flatten to tokens, prefix token(s) expanded over the batch, position embedding. */
function embed(model: ViTModel, params: ViTQuantParams, parts: VitGraphParts, input: string): string {
  const { g } = parts, c = model.config, w = model.weights, p = c.patch;
  const xq = parts.quant('patch-in', input, params.patchIn);
  const conv = g.op('Conv', [xq, parts.weight('patch_embed.proj'), g.f32('patch_embed.proj.bias', w.patchB)], '/patch_embed/proj/Conv',
    { kernel_shape: attr.ints([p, p]), strides: attr.ints([p, p]) });
  const flat = g.op('Reshape', [conv, g.constI64([0, 0, -1])], '/patch_embed/Reshape');
  const patches = g.op('Transpose', [flat], '/patch_embed/Transpose', { perm: attr.ints([0, 2, 1]) });
  const batch = g.op('Slice', [g.op('Shape', [input], '/prefix/Shape'), g.constI64([0]), g.constI64([1])], '/prefix/Slice');
  const shape = g.op('Concat', [batch, g.constI64([c.prefixTokens, c.dim])], '/prefix/Concat', { axis: attr.int(0) });
  const prefix = g.op('Expand', [g.f32('prefix_tokens', w.prefix, [1, c.prefixTokens, c.dim]), shape], '/prefix/Expand');
  const tokens = g.op('Concat', [prefix, patches], '/Concat', { axis: attr.int(1) });
  return g.op('Add', [tokens, g.f32('pos_embed', w.posEmbed, [1, c.tokens, c.dim])], '/pos_embed/Add');
}

function block(model: ViTModel, params: ViTQuantParams, parts: VitGraphParts, x: string, i: number, b: BlockWeights): string {
  const { g } = parts, c = model.config, q = params.blocks[i], s = `/blocks.${i}`, n = `blocks.${i}`;
  const hd = c.dim / c.heads;
  const linear = (v: string, layer: string, bias: Float32Array) =>
    g.op('Add', [g.op('MatMul', [v, parts.weight(`${n}.${layer}`)], `${s}/${layer.replace('.', '/')}/MatMul`), g.f32(`${n}.${layer}.bias`, bias)], `${s}/${layer.replace('.', '/')}/Add`);
  // Attention: timm's layout, qkv → [B, N, 3, H, hd] → [3, B, H, N, hd]; q, k, v quantized per tensor each.
  const h1 = parts.quant(`${n}.qkv-in`, layerNorm(g, x, `${n}.norm1`, b.ln1Gamma, b.ln1Beta, c.lnEps, `${s}/norm1`), q.qkvIn);
  const qkv = linear(h1, 'attn.qkv', b.qkvB);
  const split = g.op('Transpose', [g.op('Reshape', [qkv, g.constI64([0, 0, 3, c.heads, hd])], `${s}/attn/Reshape`)], `${s}/attn/Transpose`, { perm: attr.ints([2, 0, 3, 1, 4]) });
  const [qh, kh, vh] = (['q', 'k', 'v'] as const).map((t, j) =>
    parts.quant(`${n}.${t}`, g.op('Gather', [split, g.constI64([j], true)], `${s}/attn/Gather_${t}`, { axis: attr.int(0) }), q[t]));
  const kt = g.op('Transpose', [kh], `${s}/attn/Transpose_k`, { perm: attr.ints([0, 1, 3, 2]) });
  const scores = g.op('Mul', [g.op('MatMul', [qh, kt], `${s}/attn/MatMul_qk`), g.constF32(1 / Math.sqrt(hd))], `${s}/attn/Mul_scale`);
  const probs = parts.quant(`${n}.attn-probs`, g.op('Softmax', [scores], `${s}/attn/Softmax`, { axis: attr.int(-1) }), q.probs);
  const att = g.op('Transpose', [g.op('MatMul', [probs, vh], `${s}/attn/MatMul_pv`)], `${s}/attn/Transpose_out`, { perm: attr.ints([0, 2, 1, 3]) });
  const merged = g.op('Reshape', [att, g.constI64([0, 0, c.dim])], `${s}/attn/Reshape_out`);
  const x2 = g.op('Add', [x, linear(parts.quant(`${n}.proj-in`, merged, q.projIn), 'attn.proj', b.projB)], `${s}/Add_attn`);
  // MLP.
  const h2 = parts.quant(`${n}.fc1-in`, layerNorm(g, x2, `${n}.norm2`, b.ln2Gamma, b.ln2Beta, c.lnEps, `${s}/norm2`), q.fc1In);
  const f = gelu(g, linear(h2, 'mlp.fc1', b.fc1B), c.gelu, `${s}/mlp/act`);
  return g.op('Add', [x2, linear(parts.quant(`${n}.fc2-in`, f, q.fc2In), 'mlp.fc2', b.fc2B)], `${s}/Add_mlp`, {}, `${n}.output`);
}

/** LayerNormalization (opset ≥ 17), or the decomposed form the importer also reads (opset 13). */
function layerNorm(g: GraphBuilder, x: string, name: string, gamma: Float32Array, beta: Float32Array, eps: number, scope: string): string {
  const scale = g.has(`${name}.weight`) ? `${name}.weight` : g.f32(`${name}.weight`, gamma);
  const bias = g.has(`${name}.bias`) ? `${name}.bias` : g.f32(`${name}.bias`, beta);
  if (g.opset >= 17) return g.op('LayerNormalization', [x, scale, bias], `${scope}/LayerNormalization`, { axis: attr.int(-1), epsilon: attr.float(eps) });
  const mean = g.op('ReduceMean', [x], `${scope}/ReduceMean`, { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const d = g.op('Sub', [x, mean], `${scope}/Sub`);
  const variance = g.op('ReduceMean', [g.op('Pow', [d, g.constF32(2)], `${scope}/Pow`)], `${scope}/ReduceMean_var`, { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const std = g.op('Sqrt', [g.op('Add', [variance, g.constF32(eps)], `${scope}/Add_eps`)], `${scope}/Sqrt`);
  return g.op('Add', [g.op('Mul', [g.op('Div', [d, std], `${scope}/Div`), scale], `${scope}/Mul`), bias], `${scope}/Add`);
}

/** Exact GELU 0.5·x·(1 + erf(x/√2)) or the tanh form, as torch exports them. */
function gelu(g: GraphBuilder, x: string, kind: 'erf' | 'tanh', scope: string): string {
  let inner: string;
  if (kind === 'erf') {
    inner = g.op('Erf', [g.op('Div', [x, g.constF32(Math.SQRT2)], `${scope}/Div`)], `${scope}/Erf`);
  } else {
    const cube = g.op('Mul', [g.op('Pow', [x, g.constF32(3)], `${scope}/Pow`), g.constF32(0.044715)], `${scope}/Mul_cube`);
    inner = g.op('Tanh', [g.op('Mul', [g.op('Add', [x, cube], `${scope}/Add_cube`), g.constF32(Math.sqrt(2 / Math.PI))], `${scope}/Mul_c`)], `${scope}/Tanh`);
  }
  const onePlus = g.op('Add', [inner, g.constF32(1)], `${scope}/Add_one`);
  return g.op('Mul', [g.op('Mul', [x, onePlus], `${scope}/Mul_x`), g.constF32(0.5)], `${scope}/Mul_half`);
}
