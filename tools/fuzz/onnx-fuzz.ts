/**
 * The ONNX import fuzzer, shared by `npm run fuzz` (onnx-fuzz-cli.ts) and tests/onnx-fuzz.test.ts.
 * Cases run in worker threads, in batches; the main thread times every case (its mutation, then its
 * import, each from the worker's last message) and, past the limit, terminates the worker, records a
 * hang for that case and carries on with a fresh worker, so a hang is caught for real instead of
 * freezing the run. A worker that dies (out of memory, a native crash) records a crash the same way.
 */
import { Worker } from 'node:worker_threads';
import { caseOf, KINDS, SWEEP_BASE, sweepCount, type CaseResult, type Outcome } from './cases';
import { loadSeedBytes, prepareSeeds } from './seeds';
import { summarize, type Summary } from './summary';

export { formatSummary, type Summary } from './summary';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Per case, in ms (2000 by default). */
  timeoutMs?: number;
  workers?: number;
  batch?: number;
  /** Run only these case indices (to reproduce failures). */
  only?: number[];
  /** Also run the truncation sweep of these seeds (every boundary, raw and clean cut; cases.ts). */
  sweep?: string[];
  onProgress?: (done: number, total: number) => void;
  /** Test hook: case indices at which the worker loops forever or exits (fuzz-worker.ts). */
  simulate?: { hang?: number[]; crash?: number[] };
}

const WORKER = new URL('./fuzz-worker.ts', import.meta.url);
// Workers get the TypeScript loader explicitly: under vitest the parent's execArgv does not have it.
const LOADER = new URL('../node-loader.mjs', import.meta.url).href;
type RawSeeds = { name: string; bytes: Uint8Array }[];

function startWorker(runSeed: number, seeds: RawSeeds, simulate: FuzzOptions['simulate']): Promise<Worker> {
  const w = new Worker(WORKER, {
    workerData: { runSeed, seeds, simulate }, execArgv: ['--import', LOADER],
    // A heap blow-up ends this worker (a 'crash' outcome) instead of the whole process.
    resourceLimits: { maxOldGenerationSizeMb: 1536 },
  });
  return new Promise((resolve, reject) => {
    w.once('message', () => resolve(w));
    w.once('error', reject);
  });
}

interface BatchRun { results: CaseResult[]; rest: number[]; dead: boolean }

/** Runs `batch` on `w`; on a timeout or a worker death the remaining indices come back in `rest`. */
function runBatch(w: Worker, batch: number[], timeoutMs: number, fail: (index: number, o: Outcome, why: string) => CaseResult): Promise<BatchRun> {
  return new Promise((resolve) => {
    const results: CaseResult[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: Outcome | null, why = '') => {
      clearTimeout(timer);
      w.off('message', onMessage); w.off('error', onError); w.off('exit', onExit);
      if (outcome) results.push(fail(batch[results.length], outcome, why));
      resolve({ results, rest: batch.slice(results.length), dead: outcome !== null });
    };
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => finish('hang', `no result within ${timeoutMs} ms`), timeoutMs); };
    const onMessage = (m: { type: string; result: CaseResult }) => {
      if (m.type === 'import') return arm();
      results.push(m.result);
      if (results.length === batch.length) finish(null); else arm();
    };
    const onError = (e: Error & { code?: string }) => finish('crash', `${e.code ?? e.name}: ${e.message}`);
    const onExit = (code: number) => finish('crash', `worker exited with code ${code}`);
    w.on('message', onMessage); w.on('error', onError); w.on('exit', onExit);
    arm();
    w.postMessage(batch);
  });
}

export async function runFuzz(o: FuzzOptions): Promise<Summary> {
  const t0 = performance.now();
  const timeoutMs = o.timeoutMs ?? 2000, batchSize = o.batch ?? 50, workers = o.workers ?? 1;
  const raw = loadSeedBytes(), seeds = prepareSeeds(raw), names = seeds.map((s) => s.name);
  const indices = o.only ?? Array.from({ length: o.cases }, (_, i) => i);
  if (o.sweep && !o.only) {
    // Sweep indices of the chosen seeds only: the sweep enumerates seeds in order.
    let base = SWEEP_BASE;
    for (const s of seeds) {
      const n = sweepCount([s]);
      if (o.sweep.includes(s.name)) for (let k = 0; k < n; k++) indices.push(base + k);
      base += n;
    }
  }
  const queue: number[][] = [];
  for (let i = 0; i < indices.length; i += batchSize) queue.push(indices.slice(i, i + batchSize));
  const results: CaseResult[] = [];
  // A hung or crashed case is described by rebuilding its mutation here (cheap, deterministic).
  const fail = (index: number, outcome: Outcome, why: string): CaseResult => {
    const { kind, seed, build } = caseOf(index, seeds);
    let what = '?';
    try { what = build(o.seed).what; } catch { /* reported as is */ }
    return { index, kind, seed: seed.name, what, outcome, code: outcome === 'hang' ? 'timeout' : 'worker', message: why };
  };
  const drive = async () => {
    let w: Worker | null = null;
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      w ??= await startWorker(o.seed, raw, o.simulate);
      const run = await runBatch(w, batch, timeoutMs, fail);
      results.push(...run.results);
      o.onProgress?.(results.length, indices.length);
      if (run.dead) { await w.terminate(); w = null; }
      if (run.rest.length > 0) queue.unshift(run.rest);
    }
    await w?.terminate();
  };
  await Promise.all(Array.from({ length: workers }, drive));
  results.sort((a, b) => a.index - b.index);
  return summarize(results, { seed: o.seed, seeds: names, kinds: KINDS, workers, timeoutMs, elapsedMs: performance.now() - t0 });
}
