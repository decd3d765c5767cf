/**
 * ASMO checkpoints (settings.ts AsmoCheckpoint): the module order, the fingerprint of a run's inputs, and
 * the checks that a checkpoint can continue this run. No GPU code: the page and the CLI check files with it.
 */
import type { ViTModel } from '../vit/description.ts';
import type { ViTQuantParams } from '../quant/params.ts';
import { asmoModuleName, AsmoResumeError, type AsmoCheckpoint, type AsmoModuleId, type AsmoSettings } from './settings.ts';

/** The modules a run optimises, in the order it visits them (module i draws with moduleSeed(seed, i)). */
export function asmoModuleOrder(depth: number, modules: AsmoSettings['modules']): AsmoModuleId[] {
  const order: AsmoModuleId[] = modules.patch ? [{ kind: 'patch', block: null }] : [];
  for (let b = 0; b < depth; b++) {
    if (modules.attention) order.push({ kind: 'attention', block: b });
    if (modules.mlp) order.push({ kind: 'mlp', block: b });
  }
  if (modules.head) order.push({ kind: 'head', block: null });
  return order;
}

/** Two 32-bit multiplicative hashes over the values' bits (or a text's char codes), as 16 hex digits; ~10⁸ values a second. */
function hash(parts: readonly (Float32Array | Int32Array | string)[]): string {
  let h1 = 0x811c9dc5, h2 = 0x9747b28c;
  for (const p of parts) {
    const u = typeof p === 'string' ? Uint32Array.from(p, (ch) => ch.codePointAt(0)!) : new Uint32Array(p.buffer, p.byteOffset, p.length);
    for (let i = 0; i < u.length; i++) {
      h1 = Math.imul(h1 ^ u[i], 0x01000193);
      h2 = Math.imul(h2 ^ u[i], 0x5bd1e995) ^ (h2 >>> 15);
    }
    h1 = Math.imul(h1 ^ u.length, 0x01000193);  // part boundaries count: [a][b] ≠ [ab]
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** What a fingerprint's parts mean, for the refusal's sentence. */
const PART_WORDS: Record<string, string> = {
  model: 'another model', quantizers: 'another calibration (bit widths or quantizer parameters)', images: 'other reconstruction images',
  'held-out': 'other held-out images (accuracy tracking)', seed: 'another seed',
};

export interface FingerprintInput {
  pixels: Float32Array;
  n: number;
  params: ViTQuantParams;
  settings: AsmoSettings;
  heldOut?: { pixels: Float32Array; labels: Int32Array; count: number } | null;
}

/**
 * Everything besides the settings that a run's result depends on: the model (shape and weights), the
 * calibration it starts from, the reconstruction images, the held-out images and the seed.
 */
export function asmoFingerprint(model: ViTModel, input: FingerprintInput): string {
  const c = model.config, w = model.weights, p = input.params, h = input.heldOut;
  const weights = [w.patchW, w.patchB, w.prefix, w.posEmbed, w.normGamma, w.normBeta, w.headW, w.headB,
    ...(w.headDistW && w.headDistB ? [w.headDistW, w.headDistB] : []), ...w.blocks.flatMap((b) => Object.values(b) as Float32Array[])];
  const per = c.inChannels * c.imageSize ** 2;
  return [
    `model: ${c.style} ${c.imageSize}px/${c.patch} ${c.inChannels}ch dim ${c.dim} depth ${c.depth} heads ${c.heads} mlp ${c.mlpDim} classes ${c.numClasses} #${hash(weights)}`,
    `quantizers: W${p.bitsW}A${p.bitsA} #${hash([JSON.stringify(p)])}`,
    `images: ${input.n} #${hash([input.pixels.subarray(0, input.n * per)])}`,
    `held-out: ${h && h.count > 0 ? `${h.count} #${hash([h.pixels.subarray(0, h.count * per), h.labels.subarray(0, h.count)])}` : 'none'}`,
    `seed: ${input.settings.seed}`,
  ].join('; ');
}

const fail = (m: string): never => { throw new AsmoResumeError(m); };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Settings keys whose values differ (modules compared as a whole). The mini-batch may change: a run that ran
 * out of memory goes on at a smaller one (its later modules then differ from what the larger batch gives).
 */
function settingsDiff(a: AsmoSettings, b: AsmoSettings): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof AsmoSettings)[];
  return keys.filter((k) => k !== 'batch' && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k} ${JSON.stringify(b[k])} in the checkpoint, ${JSON.stringify(a[k])} here`);
}

/**
 * Throws AsmoResumeError unless `c` is a checkpoint this run can continue: version 1, the same settings,
 * and (when given) the same fingerprint and module order. The CLI calls it with the settings alone
 * before calibrating, runAsmo with everything before it allocates.
 */
export function checkAsmoCheckpoint(c: unknown, expected: { settings: AsmoSettings; fingerprint?: string; order?: AsmoModuleId[] }): asserts c is AsmoCheckpoint {
  if (!isObject(c) || c.version !== 1 || !isObject(c.settings) || !isObject(c.params) || typeof c.fingerprint !== 'string'
      || !Array.isArray(c.modules) || !Array.isArray(c.accuracy) || typeof c.seconds !== 'number'
      || !Number.isInteger(c.total) || !Number.isInteger(c.finished) || (c.finished as number) < 0 || (c.finished as number) > (c.total as number)) {
    fail('This is not a version-1 module-wise optimisation checkpoint (settings, params, finished and total modules).');
  }
  const ck = c as unknown as AsmoCheckpoint;
  const diff = settingsDiff(expected.settings, ck.settings);
  if (diff.length) fail(`This checkpoint was made with other optimisation settings: ${diff.join('; ')}.`);
  if (expected.fingerprint !== undefined && ck.fingerprint !== expected.fingerprint) {
    const mine = new Map(expected.fingerprint.split('; ').map((p) => [p.slice(0, p.indexOf(':')), p]));
    const theirs = ck.fingerprint.split('; '), other = theirs.find((p) => mine.get(p.slice(0, p.indexOf(':'))) !== p);
    const key = other?.slice(0, other.indexOf(':')) ?? '';
    fail(`This checkpoint was made for ${PART_WORDS[key] ?? 'another model, settings or images'}`
      + `${other ? ` (checkpoint '${other}', this run '${mine.get(key) ?? 'none'}')` : ''}: it cannot continue this run.`);
  }
  if (expected.order) {
    const order = expected.order;
    if (ck.total !== order.length) fail(`This checkpoint is of a run of ${ck.total} modules; this run has ${order.length}.`);
    if (ck.modules.length !== ck.finished) fail(`This checkpoint says ${ck.finished} modules are finished but reports ${ck.modules.length}.`);
    ck.modules.forEach((m, i) => {
      if (!isObject(m) || m.name !== asmoModuleName(order[i])) fail(`Module ${i + 1} of this checkpoint is not ${asmoModuleName(order[i])}: it cannot continue this run.`);
    });
  }
}
