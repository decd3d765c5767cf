/// <reference lib="webworker" />
/**
 * The engine in a Web Worker, so the page never freezes while the GPU works. One request at a time
 * per kind; `cancel` aborts a running evaluation, statistics collection or quantization between batches
 * (or optimisation steps); `pause` holds a quantization's module-wise optimisation between two steps.
 */
import { Engine } from '../engine/engine.ts';
import { AdfqError } from '../engine/errors.ts';
import { evaluate } from '../engine/eval/evaluate.ts';
import { quantizationSummary } from '../engine/onnx/import-export.ts';
import { collectStats, type StatsCollection } from '../engine/stats/collect-stats.ts';
import type { ErrorInfo, Request, Response } from './protocol.ts';
import { PauseGate } from './pause-gate.ts';
import { runEvaluateQuantized } from './evaluate-quantized-request.ts';
import { runExport } from './export-request.ts';
import { runQuantize, sourcesOf } from './quantize-request.ts';
import { evalBatchReporter } from './run-checkpoint.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let engine: Engine | null = null;
const running = new Map<number, AbortController>();
/** Pause gates of running quantize requests, by request id. */
const gates = new Map<number, PauseGate>();
/** The last statistics collection; one site's full statistics are sent on request. */
let stats: StatsCollection | null = null;

function post(msg: Response): void { scope.postMessage(msg); }

/** Set once the device is lost: every error after that is reported as the loss, not as what it broke. */
let lostError: ErrorInfo | null = null;

function errorInfo(e: unknown): ErrorInfo {
  if (lostError && !(e instanceof AdfqError && (e.code === 'cancelled' || e.code === 'usage'))) return lostError;
  if (e instanceof AdfqError) return { code: e.code, message: e.message };
  return { code: 'internal', message: `Internal error: ${(e as Error)?.message ?? String(e)}` };
}

/**
 * A request that fails on a destroyed device often fails (a rejected mapAsync, a validation error) before
 * `device.lost` resolves; wait briefly for the loss so the page sees 'device-lost' and can recover.
 */
async function settleLoss(e: unknown): Promise<void> {
  const lost = engine?.gpu.device.lost;
  if (lostError || !lost || e instanceof AdfqError) return;
  await Promise.race([lost, new Promise((resolve) => setTimeout(resolve, 500))]);
}

async function handle(req: Request): Promise<void> {
  switch (req.kind) {
    case 'init': {
      engine ??= await Engine.create({
        onLost: (err) => { engine = null; lostError = { code: err.code, message: err.message }; post({ kind: 'device-lost', id: 0, error: lostError }); },
      });
      post({ kind: 'ready', id: req.id, adapter: engine.adapterInfo, isSoftware: engine.gpu.isSoftware, maxBindingBytes: engine.gpu.limits.maxStorageBufferBindingSize, maxBufferBytes: engine.gpu.limits.maxBufferSize });
      return;
    }
    case 'load-model': {
      const e = requireEngine();
      const warnings: string[] = [];
      const summary = e.loadModel(req.bytes, (m) => warnings.push(m));
      // An adfq-studio export: its quantizers go to the page as plain data (the params are numbers and arrays).
      const q = e.quantization;
      const quantization = q ? { summary: quantizationSummary(q), params: q.params, settings: q.settings } : null;
      post({ kind: 'model', id: req.id, model: { name: req.name, summary, labels: e.model.config.labels, warnings, quantization } });
      return;
    }
    case 'evaluate': {
      const e = requireEngine();
      const result = await cancellable(req.id, (signal) => evaluate({
        sources: sourcesOf(req.images), predict: e.predict, spec: req.spec, numClasses: e.model.config.numClasses,
        batchSize: req.batchSize, signal, onProgress: (done, total) => post({ kind: 'progress', id: req.id, done, total }),
        resume: req.resume, onCheckpoint: evalBatchReporter('fp32', (checkpoint) => post({ kind: 'checkpoint', id: req.id, checkpoint }), req.resume),
        onNotice: (message) => post({ kind: 'notice', id: req.id, message }),
      }));
      post({ kind: 'eval-result', id: req.id, result });
      return;
    }
    case 'collect-stats': {
      const e = requireEngine();
      stats = await cancellable(req.id, (signal) => collectStats({
        runner: e.runner, sources: sourcesOf(req.images), spec: req.spec, batchSize: req.batchSize, settings: req.settings,
        signal, onProgress: (done, total, phase) => post({ kind: 'progress', id: req.id, done, total, phase }),
      }));
      post({ kind: 'stats-summary', id: req.id, summary: stats.summary });
      return;
    }
    case 'site-stats': {
      const site = stats?.site(req.site);
      if (!site) throw new AdfqError('no-stats', 'No statistics recorded for that block and tensor yet; record statistics first.');
      post({ kind: 'site-stats', id: req.id, stats: site });
      return;
    }
    case 'quantize': {
      const e = requireEngine(), gate = new PauseGate();
      gates.set(req.id, gate);
      try {
        const result = await cancellable(req.id, (signal) => runQuantize(e, {
          images: req.images, spec: req.spec, batchSize: req.batchSize, calibSize: req.calibSize, settings: req.settings,
          signal, onProgress: (done, total, phase) => post({ kind: 'progress', id: req.id, done, total, phase }),
          onAsmoEvent: (event) => post({ kind: 'asmo-event', id: req.id, event }),
          waitIfPaused: () => gate.wait(),
          resume: req.resume, onCheckpoint: (checkpoint) => post({ kind: 'checkpoint', id: req.id, checkpoint }),
          onNotice: (message) => post({ kind: 'notice', id: req.id, message }),
        }));
        post({ kind: 'quant-result', id: req.id, result });
      } finally {
        gates.delete(req.id);
        gate.open();
      }
      return;
    }
    case 'evaluate-quantized': {
      const e = requireEngine();
      const result = await cancellable(req.id, (signal) => runEvaluateQuantized(e, {
        images: req.images, spec: req.spec, batchSize: req.batchSize, params: req.params, signal,
        onProgress: (done, total, phase) => post({ kind: 'progress', id: req.id, done, total, phase }),
      }));
      post({ kind: 'quant-eval-result', id: req.id, result });
      return;
    }
    case 'export': {
      const { id: _id, kind: _kind, ...job } = req;
      const out = runExport(requireEngine(), job);
      // The bytes move to the page (no copy) unless they share their buffer; the worker keeps nothing of the export.
      const bytes = out.bytes.byteOffset === 0 && out.bytes.byteLength === out.bytes.buffer.byteLength ? out.bytes : out.bytes.slice();
      scope.postMessage({ kind: 'export-result', id: req.id, bytes, summary: out.summary } satisfies Response, [bytes.buffer]);
      return;
    }
    case 'cancel':
      running.get(req.target)?.abort();
      // A paused run must get to its next step to notice the cancel.
      gates.get(req.target)?.open();
      return;
    case 'pause':
      gates.get(req.target)?.set(req.paused);
      return;
    case 'debug-lose-device':
      engine?.gpu.device.destroy();
      return;
  }
}

/** Runs a long request that a later `cancel` message can abort between batches. */
async function cancellable<T>(id: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  running.set(id, abort);
  try {
    return await run(abort.signal);
  } finally {
    running.delete(id);
  }
}


function requireEngine(): Engine {
  if (!engine) throw new AdfqError('no-engine', 'The GPU engine is not ready (it failed to start or the device was lost). Reload the page.');
  return engine;
}

scope.onmessage = (ev: MessageEvent<Request>) => {
  handle(ev.data).catch(async (e) => {
    await settleLoss(e);
    post({ kind: 'error', id: ev.data.id, error: errorInfo(e) });
  });
};
