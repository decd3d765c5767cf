/**
 * Calibration on the quantized model's own activations (ADFQ.md §5.2), on the GPU, site by site in
 * forward order: each activation quantizer is fitted on what reaches it when every earlier quantizer
 * (and every weight, nearest rounding) is already in place, as the reference initialises its quantizers
 * during the first quantized forward pass.
 *
 * Memory: the block inputs of all calibration images stay on the GPU in chunks (each under
 * maxStorageBufferBindingSize); for each group of sites the block is re-run on every chunk and only that
 * group's tensors are kept, searched (search-backend.ts) and released. So the peak is the block inputs
 * twice (in and out), one site's activations twice (x and x̂ for the error) and one chunk's scratch.
 */
import { CancelledError, type OutOfMemoryError, UsageError } from '../errors.ts';
import type { GpuContext } from '../gpu/device.ts';
import { bytesObtained, formatMB, outOfMemory, suggestBatch } from '../gpu/oom.ts';
import { allocTensor, numel, releaseTensor, uploadTensor, type GpuTensor } from '../gpu/tensor.ts';
import { QuantViTRunner } from '../model/quant-runner.ts';
import type { SiteKind } from '../stats/types.ts';
import type { ViTModel } from '../vit/description.ts';
import { GpuQuantParams, gpuActQuantizer } from './gpu-quantizers.ts';
import { minMaxColumns, uniformFromRange } from './min-max.ts';
import { SLQ_SHIFT, type ActQuant, type ChannelQuant, type UniformTensorQuant, type ViTQuantParams, type WeightQuantParams } from './params.ts';
import { CALIB_INIT_IMAGES, calibrationMemoryPlan, type CalibrationMemoryPlan } from './memory-plan.ts';
import type { CalibSearch } from './search-backend.ts';
import { siteName, type QuantBlockSite, type QuantSiteId } from './sites.ts';
import type { CalibrationHooks, CalibrationResult, QuantizeSettings, SiteQuantReport } from './quantize.ts';

export { CALIB_INIT_IMAGES, calibrationMemoryPlan, type CalibrationMemoryPlan } from './memory-plan.ts';

/** Sites fitted together: each group's inputs depend only on earlier groups' quantizers. */
const SITE_GROUPS: readonly (readonly QuantBlockSite[])[] = [['qkv-in'], ['q', 'k', 'v'], ['attn-probs'], ['proj-in'], ['fc1-in'], ['fc2-in']];

type Search = CalibSearch;

const okDelta = (d: number) => Number.isFinite(d) && d > 0;

/** Per-column inits as a ChannelQuant; a column whose init is degenerate (constant) takes its MinMax range. */
function columnsFromInits(w: Float32Array, cols: number, bits: number, inits: readonly { delta: number; zeroPoint: number }[]): ChannelQuant {
  if (inits.every((r) => okDelta(r.delta) && Number.isFinite(r.zeroPoint))) {
    return { kind: 'channel', delta: inits.map((r) => r.delta), zero: inits.map((r) => r.zeroPoint) };
  }
  const mm = minMaxColumns(w, cols, bits);
  inits.forEach((r, o) => { if (okDelta(r.delta) && Number.isFinite(r.zeroPoint)) { mm.delta[o] = r.delta; mm.zero[o] = r.zeroPoint; } });
  return mm;
}

interface Fit { q: ActQuant; outliers: number | null }

/** Per-tensor uniform from percentile-MSE; a degenerate init (constant tensor) takes the MinMax range. */
async function percentileUniform(search: Search, xs: readonly GpuTensor[], bits: number): Promise<UniformTensorQuant> {
  const r = await search.uniform(xs, bits);
  if (okDelta(r.delta) && Number.isFinite(r.zeroPoint)) return { kind: 'uniform', delta: r.delta, zero: r.zeroPoint };
  return minMaxUniform(search, xs, bits);
}

async function minMaxUniform(search: Search, xs: readonly GpuTensor[], bits: number): Promise<UniformTensorQuant> {
  const { min, max } = await search.minMax(xs);
  return { kind: 'uniform', ...uniformFromRange(min, max, bits) };
}

async function gridUniform(search: Search, xs: readonly GpuTensor[], bits: number): Promise<UniformTensorQuant> {
  try {
    const g = await search.grid(xs, bits);
    return { kind: 'uniform', delta: g.delta, zero: g.zeroPoint };
  } catch (e) {
    // Every candidate degenerate (e.g. an all-zero tensor) is a UsageError; anything else (out of memory, a
    // lost device, a cancelled run) is not a reason to fall back.
    if (!(e instanceof UsageError)) throw e;
    return minMaxUniform(search, xs, bits);
  }
}

/** The quantizer of one block site under `s` (ADFQ.md §1, or a baseline's per-tensor rule). */
async function fitBlockSite(search: Search, kind: QuantBlockSite, xs: readonly GpuTensor[], s: QuantizeSettings, model: ViTModel): Promise<Fit> {
  const a = s.bitsA, c = model.config, ab = s.ablation;
  const uniform = async (): Promise<Fit> => ({ q: await percentileUniform(search, xs, a), outliers: null });
  if (s.method === 'minmax') return { q: await minMaxUniform(search, xs, a), outliers: null };
  if (s.method === 'percentile') return uniform();
  const ppoq = async (tau: number): Promise<Fit> => {
    const views = xs.map((x) => ({ buffer: x.buffer, shape: [numel(x.shape) / (c.tokens * c.dim), c.tokens, c.dim] }));
    const init = await search.perToken(views, c.tokens, c.dim, tau, a);
    const ok = (t: { delta: number }) => okDelta(t.delta);
    return { q: { kind: 'ppoq', tau, delta: init.tokens.map((t) => (ok(t) ? t.delta : 1e-8)), zero: init.tokens.map((t) => (ok(t) ? t.zeroPoint : 0)) },
      outliers: init.outlierCount };
  };
  switch (kind) {
    case 'qkv-in': return ab.ppoqQkv ? uniform() : ppoq(s.tauQkv);
    case 'fc1-in': return ab.ppoqFc1 ? uniform() : ppoq(s.tauFc1);
    case 'q': case 'k': case 'v': return { q: await gridUniform(search, xs, a), outliers: null };
    case 'attn-probs': {
      if (ab.logProbs) return uniform();
      const r = await search.logSqrt2(xs, a);
      return okDelta(r.delta) ? { q: { kind: 'log', delta: r.delta, base: 'sqrt2' }, outliers: null } : uniform();
    }
    case 'fc2-in': {
      if (ab.slq) return uniform();
      const r = await search.slqConst(xs, a, SLQ_SHIFT);
      return { q: { kind: 'slq', delta: okDelta(r.delta) ? r.delta : Math.fround(1e-6), base: 'sqrt2', shift: SLQ_SHIFT }, outliers: null };
    }
    case 'proj-in': return uniform();
  }
}

async function weightParams(search: Search, model: ViTModel, s: QuantizeSettings): Promise<WeightQuantParams> {
  const c = model.config, w = model.weights, bits = s.bitsW;
  const cols = async (m: Float32Array, n: number): Promise<ChannelQuant> => s.method === 'minmax'
    ? minMaxColumns(m, n, bits) : columnsFromInits(m, n, bits, await search.perColumn(m, m.length / n, n, bits));
  const blocks = [];
  for (const b of w.blocks) {
    blocks.push({ qkvW: await cols(b.qkvW, 3 * c.dim), projW: await cols(b.projW, c.dim), fc1W: await cols(b.fc1W, c.mlpDim), fc2W: await cols(b.fc2W, c.dim) });
  }
  return {
    bitsW: s.bitsW, bitsA: s.bitsA, blocks, patchW: await cols(w.patchW, c.dim), headW: await cols(w.headW, c.numClasses),
    ...(w.headDistW ? { headDistW: await cols(w.headDistW, c.numClasses) } : {}),
  };
}

/** Where calibration started: what was in use, and the pool's creation mark (failures from it on are calibration's). */
interface CalibStart { inUse: number; mark: number }

/**
 * Runs an async step inside an out-of-memory scope: a failed allocation since calibration started (named
 * by the pool's own scopes: the weights' searches and the runner's uploads included) becomes "needs N MB,
 * have M MB; try batch B" with N = what was in use before calibration plus the plan's peak, M = what the
 * pool got before the failure, B = the most calibration images whose plan fits M. `run` releases what it
 * acquired before this throws.
 */
async function withOom<T>(ctx: GpuContext, model: ViTModel, plan: CalibrationMemoryPlan, start: CalibStart, run: () => Promise<T>): Promise<T> {
  const pool = ctx.pool, mark = start.mark, inUseBefore = start.inUse;
  ctx.device.pushErrorScope('out-of-memory');
  let value: T | undefined, failure: unknown;
  try { value = await run(); } catch (e) { failure = e; }
  const oom = await ctx.device.popErrorScope();
  const failed = await pool.failuresSince(mark);
  if (oom || failed.length) {
    pool.trim();
    throw calibrationOutOfMemory(model, plan, inUseBefore, bytesObtained(failed, pool.bytesAllocated));
  }
  if (failure !== undefined) throw failure;
  return value!;
}

/** The OutOfMemoryError of a calibration whose plan did not fit in `have` bytes (exported for tests). */
export function calibrationOutOfMemory(model: ViTModel, plan: CalibrationMemoryPlan, inUseBefore: number, have: number): OutOfMemoryError {
  const c = model.config, need = (images: number) => inUseBefore + calibrationMemoryPlan(c, images, plan.maxBindingBytes).peakBytes;
  return outOfMemory({
    what: `The GPU ran out of memory calibrating on ${plan.images} images`,
    needBytes: need(plan.images), haveBytes: have, batch: plan.images,
    suggestedBatch: suggestBatch(plan.images, need, have), batchMeaning: 'calibration images',
    hint: `(the plan: ${formatMB(plan.peakBytes)} MB at peak, ${formatMB(inUseBefore)} MB already in use.)`,
  });
}

export async function calibrateOnGpu(ctx: GpuContext, model: ViTModel, pixels: Float32Array, n: number,
                                     settings: QuantizeSettings, hooks: CalibrationHooks, search: Search): Promise<CalibrationResult> {
  const t0 = performance.now(), c = model.config, per = c.inChannels * c.imageSize * c.imageSize;
  const images = Math.min(n, CALIB_INIT_IMAGES), bitsA = settings.bitsA;
  const total = 3 + c.depth * (SITE_GROUPS.length + 1);  // weights, patch input, head input, and per block
  let done = 0;
  const step = (phase: string) => {
    if (hooks.signal?.aborted) throw new CancelledError('Calibration cancelled.');
    hooks.onProgress?.(done++, total, phase);
  };
  const start: CalibStart = { inUse: ctx.pool.bytesInUse, mark: ctx.pool.allocationMark() };
  // The plan first: it throws (one image does not fit) before anything is allocated.
  const plan = calibrationMemoryPlan(c, images, ctx.limits.maxStorageBufferBindingSize), chunk = plan.chunk;
  const ranges = Array.from({ length: plan.chunks }, (_, i) => [i * chunk, Math.min(chunk, images - i * chunk)] as const);
  step('weights');
  const weights = await weightParams(search, model, settings);
  const runner = new QuantViTRunner(ctx, model, weights);
  const store = new GpuQuantParams(ctx);
  const fits = new Map<string, ActQuant>(), reports: SiteQuantReport[] = [];
  let tokens: GpuTensor[] = [];

  /** Fits one site on xs (released by the caller), measures its error, installs it unless told not to. */
  const fit = async (site: QuantSiteId, xs: readonly GpuTensor[], choose: () => Promise<Fit>) => {
    const { q, outliers } = await choose();
    const quant = gpuActQuantizer(ctx, store, q, bitsA, c.tokens, siteName(site));
    const enc = ctx.device.createCommandEncoder({ label: `${siteName(site)} error` });
    const xhats: GpuTensor[] = [];
    try {
      for (const x of xs) xhats.push(ctx.pool.guard(() => quant(enc, x)));
      ctx.pool.submit(enc);
      const e = await search.error(xs, xhats);
      reports.push({ site, quantizer: q.kind, mse: e.mse, sqnrDb: e.sqnrDb, outlierFraction: outliers === null ? null : outliers / e.count, count: e.count });
    } finally {
      for (const t of xhats) releaseTensor(ctx, t);
    }
    fits.set(siteName(site), q);
    if (site.kind !== 'q' && site.kind !== 'k' && site.kind !== 'v') runner.setActivation(site, q);
  };

  /**
   * Block `block` on every chunk, keeping copies of the sites in `kinds` in `kept` (the caller releases
   * them, also when this throws half-way); the block outputs are dropped.
   */
  const capture = (block: number, kinds: readonly SiteKind[], kept: Map<SiteKind, GpuTensor[]>): void => {
    for (const k of kinds) kept.set(k, []);
    tokens.forEach((x, i) => {
      runner.runBlockUntil(block, x, ranges[i][1], kinds[kinds.length - 1], (kind, t, enc) => {
        const list = kept.get(kind);
        if (!list) return;
        const copy = allocTensor(ctx, t.shape, `${kind} copy`);
        enc.copyBufferToBuffer(t.buffer, 0, copy.buffer, 0, numel(t.shape) * 4);
        list.push(copy);
      });
    });
  };
  const releaseAll = (ts: Iterable<GpuTensor>) => { for (const t of ts) releaseTensor(ctx, t); };

  try {
    await withOom(ctx, model, plan, start, async () => {
      step('patch-embed input');
      const imageChunks: GpuTensor[] = [];
      try {
        for (const [s, b] of ranges) imageChunks.push(uploadTensor(ctx, pixels.subarray(s * per, (s + b) * per), [b, c.inChannels, c.imageSize, c.imageSize], 'calib image'));
        await fit({ block: null, kind: 'patch-in' }, imageChunks, async () => ({ q: await percentileOrMinMax(search, imageChunks, settings), outliers: null }));
      } finally { releaseAll(imageChunks); }
      for (const [s, b] of ranges) tokens.push(runner.runEmbed(pixels.subarray(s * per, (s + b) * per), b));
    });
    for (let block = 0; block < c.depth; block++) {
      for (const group of SITE_GROUPS) {
        step(`block ${block}: ${group.join(', ')}`);
        await withOom(ctx, model, plan, start, async () => {
          const kept = new Map<SiteKind, GpuTensor[]>();
          try {
            capture(block, group, kept);
            for (const kind of group) await fit({ block, kind }, kept.get(kind)!, () => fitBlockSite(search, kind, kept.get(kind)!, settings, model));
          } finally { for (const l of kept.values()) releaseAll(l); }
        });
        if (group.includes('q')) {
          const u = (k: string) => fits.get(siteName({ block, kind: k as 'q' })) as UniformTensorQuant;
          runner.setQkv(block, { q: u('q'), k: u('k'), v: u('v') });
        }
      }
      step(`block ${block}: output`);
      await withOom(ctx, model, plan, start, async () => {
        const next: GpuTensor[] = [];
        try {
          tokens.forEach((x, i) => next.push(runner.runBlock(block, x, ranges[i][1])));
        } catch (e) {
          releaseAll(next);
          throw e;
        }
        releaseAll(tokens);
        tokens = next;
      });
    }
    step('head input');
    await withOom(ctx, model, plan, start, async () => {
      const enc = ctx.device.createCommandEncoder({ label: 'head input' });
      const heads: GpuTensor[] = [];
      try {
        tokens.forEach((x, i) => {
          for (let t = 0; t < (model.weights.headDistW ? 2 : 1); t++) heads.push(ctx.pool.guard(() => runner.recordHeadInput(enc, x, ranges[i][1], t)));
        });
        ctx.pool.submit(enc);
        await fit({ block: null, kind: 'head-in' }, heads, async () => ({ q: await percentileOrMinMax(search, heads, settings), outliers: null }));
      } finally { releaseAll(heads); }
    });
    hooks.onProgress?.(total, total, 'done');
    return {
      settings, params: assemble(weights, fits), sites: reports, calibImages: images,
      seconds: (performance.now() - t0) / 1000, backend: search.where, memory: plan,
    };
  } finally {
    releaseAll(tokens);
    store.dispose();
    runner.dispose();
  }
}

function percentileOrMinMax(search: Search, xs: readonly GpuTensor[], s: QuantizeSettings): Promise<UniformTensorQuant> {
  return s.method === 'minmax' ? minMaxUniform(search, xs, s.bitsA) : percentileUniform(search, xs, s.bitsA);
}

function assemble(w: WeightQuantParams, fits: Map<string, ActQuant>): ViTQuantParams {
  const get = <T extends ActQuant>(site: QuantSiteId) => fits.get(siteName(site)) as T;
  return {
    ...w,
    patchIn: get({ block: null, kind: 'patch-in' }),
    headIn: get({ block: null, kind: 'head-in' }),
    blocks: w.blocks.map((wb, block) => ({
      ...wb,
      qkvIn: get({ block, kind: 'qkv-in' }), q: get({ block, kind: 'q' }), k: get({ block, kind: 'k' }), v: get({ block, kind: 'v' }),
      probs: get({ block, kind: 'attn-probs' }), projIn: get({ block, kind: 'proj-in' }),
      fc1In: get({ block, kind: 'fc1-in' }), fc2In: get({ block, kind: 'fc2-in' }),
    })),
  };
}
