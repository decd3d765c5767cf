/**
 * What an import that succeeds must deliver: a config whose numbers fit together and weights whose
 * lengths match it, as the runners and the quantizer assume. A mutated file that imports into anything
 * else is a bug of the importer as real as an untyped error (it would fail later, far from the cause).
 */
import type { ImportedModel } from '../../src/engine/onnx/import-vit';

const posInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;

/** The first inconsistency of an imported model, or null. */
export function checkImported({ model }: ImportedModel): string | null {
  const c = model.config, w = model.weights;
  for (const k of ['imageSize', 'patch', 'inChannels', 'dim', 'depth', 'heads', 'mlpDim', 'numClasses', 'prefixTokens', 'tokens'] as const) {
    if (!posInt(c[k])) return `config.${k} = ${c[k]}`;
  }
  if (c.dim % c.heads !== 0) return `dim ${c.dim} over ${c.heads} heads`;
  if (c.imageSize % c.patch !== 0 || c.tokens !== c.prefixTokens + (c.imageSize / c.patch) ** 2) return `tokens ${c.tokens} for image ${c.imageSize}, patch ${c.patch}`;
  if (!(Number.isFinite(c.lnEps) && c.lnEps > 0)) return `lnEps = ${c.lnEps}`;
  if (c.fixedBatch !== null && !posInt(c.fixedBatch)) return `fixedBatch = ${c.fixedBatch}`;
  const { dim: d, mlpDim: m, numClasses: k } = c, ppc = c.inChannels * c.patch * c.patch;
  const expect: [string, Float32Array | null, number][] = [
    ['patchW', w.patchW, ppc * d], ['patchB', w.patchB, d], ['prefix', w.prefix, c.prefixTokens * d], ['posEmbed', w.posEmbed, c.tokens * d],
    ['normGamma', w.normGamma, d], ['normBeta', w.normBeta, d], ['headW', w.headW, d * k], ['headB', w.headB, k],
  ];
  if (c.prefixTokens === 2) expect.push(['headDistW', w.headDistW, d * k], ['headDistB', w.headDistB, k]);
  if (w.blocks.length !== c.depth) return `${w.blocks.length} blocks for depth ${c.depth}`;
  w.blocks.forEach((b, i) => {
    const sizes = { ln1Gamma: d, ln1Beta: d, qkvW: 3 * d * d, qkvB: 3 * d, projW: d * d, projB: d, ln2Gamma: d, ln2Beta: d, fc1W: d * m, fc1B: m, fc2W: m * d, fc2B: d };
    for (const [key, n] of Object.entries(sizes)) expect.push([`blocks.${i}.${key}`, b[key as keyof typeof b], n]);
  });
  for (const [name, a, n] of expect) if (!(a instanceof Float32Array) || a.length !== n) return `${name} has ${a?.length ?? 'no'} values, ${n} expected`;
  return null;
}
