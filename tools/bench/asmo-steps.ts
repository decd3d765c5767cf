/**
 * `npm run bench:asmo`: time per ASMO optimisation step (forward with soft weights, losses, backward, Adam;
 * asmo/modules.ts) for the attention and MLP modules of ViT-Ti- and DeiT-S-shaped blocks, the patch embedding
 * and the head, at batch 32 (or --batch N) on the adapter at hand, and the projected time of a full run
 * (--iters steps, 3000 by default, × every module). Weights and inputs are random and the quantizer
 * parameters synthetic: step time does not depend on their values. Figures to stdout; progress to stderr.
 *   npm run bench:asmo -- [--batch 32] [--iters 3000] [--runs 3] [--models vit-ti,deit-s] [--gradients default|ste-lsq]
 */
import { median } from '../../src/bench/measure.ts';
import { AttentionModule, LinearModule, MlpModule, type TrainableModule } from '../../src/engine/asmo/modules.ts';
import { DEFAULT_ASMO_SETTINGS, type GradientMode } from '../../src/engine/asmo/settings.ts';
import { acquireGpu, type GpuContext } from '../../src/engine/gpu/device.ts';
import { allocTensor, releaseTensor, uploadTensor, type GpuTensor } from '../../src/engine/gpu/tensor.ts';
import { GpuQuantParams } from '../../src/engine/quant/gpu-quantizers.ts';
import type { BlockQuantParams, ChannelQuant } from '../../src/engine/quant/params.ts';

interface Shape { name: string; dim: number; heads: number; mlp: number; tokens: number; patchIn: number; classes: number; depth: number }
const SHAPES: Record<string, Shape> = {
  'vit-ti': { name: 'ViT-Ti / DeiT-T', dim: 192, heads: 3, mlp: 768, tokens: 197, patchIn: 768, classes: 1000, depth: 12 },
  'deit-s': { name: 'DeiT-S / ViT-S', dim: 384, heads: 6, mlp: 1536, tokens: 197, patchIn: 768, classes: 1000, depth: 12 },
};

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const batch = Number(flag('batch', '32')), iters = Number(flag('iters', '3000')), runs = Number(flag('runs', '3'));
const gradients = flag('gradients', 'default') as GradientMode;
const models = flag('models', 'vit-ti,deit-s').split(',');
const started = performance.now();
const log = (m: string) => process.stderr.write(`[bench:asmo ${((performance.now() - started) / 1000).toFixed(0)}s] ${m}\n`);

let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const randoms = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * rnd());

/** 4-bit per-column quantizer of a random [rows, cols] weight: its range. */
function channelQuant(w: Float32Array, cols: number): ChannelQuant {
  const delta: number[] = [], zero: number[] = [];
  for (let c = 0; c < cols; c++) {
    let lo = 0, hi = 0;
    for (let i = c; i < w.length; i += cols) { lo = Math.min(lo, w[i]); hi = Math.max(hi, w[i]); }
    const d = (hi - lo) / 15;
    delta.push(d);
    zero.push(Math.round(-lo / d));
  }
  return { kind: 'channel', delta, zero };
}

function blockParams(s: Shape, w: Record<'qkv' | 'proj' | 'fc1' | 'fc2', Float32Array>): BlockQuantParams {
  const u = (delta: number, zero: number) => ({ kind: 'uniform' as const, delta, zero });
  return {
    qkvW: channelQuant(w.qkv, 3 * s.dim), projW: channelQuant(w.proj, s.dim), fc1W: channelQuant(w.fc1, s.mlp), fc2W: channelQuant(w.fc2, s.dim),
    qkvIn: { kind: 'ppoq', tau: 5, delta: Array(s.tokens).fill(0.4), zero: Array(s.tokens).fill(8) },
    q: u(0.3, 8), k: u(0.3, 8), v: u(0.3, 8), probs: { kind: 'log', delta: 1, base: 'sqrt2' }, projIn: u(0.1, 8),
    fc1In: { kind: 'ppoq', tau: 10, delta: Array(s.tokens).fill(0.4), zero: Array(s.tokens).fill(8) },
    fc2In: { kind: 'slq', delta: 2, base: 'sqrt2', shift: -0.17005 },
  };
}

/** Median wall time of one recorded, submitted and finished step (after one warm-up step). */
async function timeSteps(ctx: GpuContext, module: TrainableModule, rows: number, cols: number, images: number): Promise<{ ms: number; warmupMs: number }> {
  const history = allocTensor(ctx, [3 * (runs + 1)], 'bench.history');
  const xq = uploadTensor(ctx, randoms(rows * cols, 2), [rows, cols], 'bench.xq'), xfp = uploadTensor(ctx, randoms(rows * cols, 2), [rows, cols], 'bench.xfp');
  const times: number[] = [];
  for (let step = 0; step <= runs; step++) {
    const t = performance.now(), enc = ctx.device.createCommandEncoder();
    module.step(enc, { xq, xfp, images }, { step, settings: { ...DEFAULT_ASMO_SETTINGS, iters: runs + 1, gradients }, history, mixSeed: 1 });
    ctx.pool.submit(enc);
    await ctx.device.queue.onSubmittedWorkDone();
    times.push(performance.now() - t);
  }
  for (const t of [history, xq, xfp]) releaseTensor(ctx, t);
  return { ms: median(times.slice(1)), warmupMs: times[0] };
}

async function benchShape(ctx: GpuContext, s: Shape) {
  const fpTensor = (rows: number, cols: number, label: string, host = randoms(rows * cols, 0.1)) => ({ host, t: uploadTensor(ctx, host, [rows, cols], label) });
  const bias = (n: number, label: string) => uploadTensor(ctx, randoms(n, 0.02), [n], label);
  const w = { qkv: fpTensor(s.dim, 3 * s.dim, 'qkv'), proj: fpTensor(s.dim, s.dim, 'proj'), fc1: fpTensor(s.dim, s.mlp, 'fc1'), fc2: fpTensor(s.mlp, s.dim, 'fc2'),
    patch: fpTensor(s.patchIn, s.dim, 'patch'), head: fpTensor(s.dim, s.classes, 'head') };
  const b = { qkv: bias(3 * s.dim, 'qkv.b'), proj: bias(s.dim, 'proj.b'), fc1: bias(s.mlp, 'fc1.b'), fc2: bias(s.dim, 'fc2.b'), patch: bias(s.dim, 'patch.b'), head: bias(s.classes, 'head.b') };
  const q = blockParams(s, { qkv: w.qkv.host, proj: w.proj.host, fc1: w.fc1.host, fc2: w.fc2.host });
  const store = new GpuQuantParams(ctx), enc = ctx.device.createCommandEncoder();
  const setup = (label: string) => ({ ctx, enc, bitsW: 4, bitsA: 4, tokens: s.tokens, label });
  const uIn = { kind: 'uniform' as const, delta: 0.05, zero: 8 };
  const modules: [string, TrainableModule, number, number, number][] = [
    ['attention', new AttentionModule(setup('attn'), { qkvW: w.qkv.t, qkvB: b.qkv, projW: w.proj.t, projB: b.proj }, { qkvW: w.qkv.host, projW: w.proj.host }, q, store, s.heads), batch * s.tokens, s.dim, s.depth],
    ['mlp', new MlpModule(setup('mlp'), { fc1W: w.fc1.t, fc1B: b.fc1, fc2W: w.fc2.t, fc2B: b.fc2 }, { fc1W: w.fc1.host, fc2W: w.fc2.host }, q, 'gelu-erf'), batch * s.tokens, s.dim, s.depth],
    ['patch embedding', new LinearModule(setup('patch'), { w: w.patch.t, b: b.patch }, w.patch.host, channelQuant(w.patch.host, s.dim), uIn), batch * (s.tokens - 1), s.patchIn, 1],
    ['head', new LinearModule(setup('head'), { w: w.head.t, b: b.head }, w.head.host, channelQuant(w.head.host, s.classes), uIn), batch, s.dim, 1],
  ];
  ctx.pool.submit(enc);
  const out: { module: string; ms: number; warmupMs: number; count: number }[] = [];
  for (const [module, m, rows, cols, count] of modules) {
    log(`${s.name} ${module}: timing ${runs} steps at batch ${batch}…`);
    const r = await timeSteps(ctx, m, rows, cols, batch);
    log(`  ${r.ms.toFixed(1)} ms per step (warm-up ${r.warmupMs.toFixed(0)} ms)`);
    out.push({ module, ...r, count });
    m.dispose();
  }
  store.dispose();
  for (const t of [...Object.values(w).map((x) => x.t), ...Object.values(b)]) releaseTensor(ctx, t);
  return out;
}

const ctx = await acquireGpu();
log(`adapter: ${ctx.adapterInfo}`);
const lines = [`ASMO step time, batch ${batch}, ${gradients} gradients, ${ctx.adapterInfo}`, '',
  '| model | module | ms / step | modules | projected full run (' + iters + ' steps × modules) |', '|---|---|---:|---:|---:|'];
for (const key of models) {
  const s = SHAPES[key];
  if (!s) throw new Error(`Unknown model '${key}' (use ${Object.keys(SHAPES).join(', ')}).`);
  const rows = await benchShape(ctx, s);
  let total = 0;
  for (const r of rows) {
    total += r.ms * r.count * iters;
    lines.push(`| ${s.name} | ${r.module} | ${r.ms.toFixed(1)} | ${r.count} | ${(r.ms * r.count * iters / 3.6e6).toFixed(2)} h |`);
  }
  lines.push(`| ${s.name} | **all ${2 * s.depth + 2} modules** | | | **${(total / 3.6e6).toFixed(2)} h** |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
ctx.dispose();
