/** The page's side of the worker protocol: each request becomes a promise; progress and ASMO events arrive by callback. */
import type { AsmoLiveEvent } from '../engine/asmo/settings.ts';
import type { EvalProgress, EvalResult } from '../engine/eval/evaluate.ts';
import type { RunCheckpoint, RunResume } from '../worker/run-checkpoint.ts';
import type { PreprocessSpec } from '../engine/image/transform.ts';
import type { QuantizeSettings } from '../engine/quant/quantize.ts';
import type { SiteId, SiteStats, StatsSettings, StatsSummary } from '../engine/stats/types.ts';
import type { ExportSummary } from '../engine/export/export-onnx.ts';
import type { ViTQuantParams } from '../engine/quant/params.ts';
import type { ErrorInfo, ExportJob, LoadedModel, QuantEvalResult, QuantizeRunResult, Request, Response, WorkerImage } from '../worker/protocol.ts';

export class EngineRequestError extends Error {
  constructor(readonly info: ErrorInfo) { super(info.message); }
}

type Pending = {
  resolve(r: Response): void; reject(e: Error): void;
  onProgress?(done: number, total: number, phase?: string): void;
  onAsmoEvent?(e: AsmoLiveEvent): void;
  onCheckpoint?(c: RunCheckpoint): void;
  onNotice?(message: string): void;
};

/** A running quantization: its result, and cancel / pause for the module-wise optimisation. */
export interface QuantizeHandle {
  done: Promise<QuantizeRunResult>;
  cancel(): void;
  /** Holds (true) or resumes (false) the optimisation between two steps; no effect outside it. */
  pause(paused: boolean): void;
}

export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(onDeviceLost: (e: ErrorInfo) => void) {
    this.worker = new Worker(new URL('../worker/engine-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<Response>) => {
      const msg = ev.data;
      if (msg.kind === 'device-lost') { this.rejectAll(msg.error); onDeviceLost(msg.error); return; }
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.kind === 'progress') { p.onProgress?.(msg.done, msg.total, msg.phase); return; }
      if (msg.kind === 'asmo-event') { p.onAsmoEvent?.(msg.event); return; }
      if (msg.kind === 'checkpoint') { p.onCheckpoint?.(msg.checkpoint); return; }
      if (msg.kind === 'notice') { p.onNotice?.(msg.message); return; }
      this.pending.delete(msg.id);
      if (msg.kind === 'error') p.reject(new EngineRequestError(msg.error));
      else p.resolve(msg);
    };
  }

  /** Ends every waiting request with `error`, so no caller hangs on a worker that cannot answer. */
  private rejectAll(error: ErrorInfo): void {
    for (const p of this.pending.values()) p.reject(new EngineRequestError(error));
    this.pending.clear();
  }

  /** Stops the worker (and its device); used before a restart. */
  terminate(): void {
    this.rejectAll({ code: 'terminated', message: 'The GPU engine was restarted.' });
    this.worker.terminate();
  }

  private request<K extends Response['kind']>(req: Omit<Request, 'id'>, onProgress?: Pending['onProgress'],
                                              transfer: Transferable[] = [], callbacks: Pick<Pending, 'onAsmoEvent' | 'onCheckpoint' | 'onNotice'> = {}): { id: number; done: Promise<Extract<Response, { kind: K }>> } {
    const id = this.nextId++;
    const done = new Promise<Extract<Response, { kind: K }>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, onProgress, ...callbacks });
    });
    this.worker.postMessage({ ...req, id } as Request, transfer);
    return { id, done };
  }

  /** A long request's handle: `cancel` asks the worker to stop it between batches; `done` is the part of its answer `pick` takes. */
  private running<M, T>(r: { id: number; done: Promise<M> }, pick: (m: M) => T): { cancel(): void; done: Promise<T> } {
    return {
      cancel: () => this.worker.postMessage({ kind: 'cancel', id: 0, target: r.id } satisfies Request),
      done: r.done.then(pick),
    };
  }

  async init(): Promise<{ adapter: string; isSoftware: boolean; maxBindingBytes: number; maxBufferBytes: number }> {
    const r = await this.request<'ready'>({ kind: 'init' }).done;
    return { adapter: r.adapter, isSoftware: r.isSoftware, maxBindingBytes: r.maxBindingBytes, maxBufferBytes: r.maxBufferBytes };
  }

  async loadModel(name: string, bytes: Uint8Array): Promise<LoadedModel> {
    return (await this.request<'model'>({ kind: 'load-model', name, bytes } as Omit<Request, 'id'>).done).model;
  }

  /** `resume`: where an interrupted evaluation of the same images got to; `onCheckpoint` gets each finished batch. */
  evaluate(images: WorkerImage[], spec: PreprocessSpec, batchSize: number, onProgress: (done: number, total: number) => void,
           resume?: EvalProgress, onCheckpoint?: (c: RunCheckpoint) => void, onNotice?: (m: string) => void): { cancel(): void; done: Promise<EvalResult> } {
    const r = this.request<'eval-result'>({ kind: 'evaluate', images, spec, batchSize, resume } as Omit<Request, 'id'>, onProgress, [], { onCheckpoint, onNotice });
    return this.running(r, (m) => m.result);
  }

  /** Records activation statistics of every block over the images (two forward passes). */
  collectStats(images: WorkerImage[], spec: PreprocessSpec, batchSize: number, settings: StatsSettings,
               onProgress: (done: number, total: number, phase?: string) => void): { cancel(): void; done: Promise<StatsSummary> } {
    const r = this.request<'stats-summary'>({ kind: 'collect-stats', images, spec, batchSize, settings } as Omit<Request, 'id'>, onProgress);
    return this.running(r, (m) => m.summary);
  }

  /**
   * Calibrates on the first `calibSize` images of the class round-robin (and optimises module-wise on them
   * when `settings.asmo` is set, each event passed to `onAsmoEvent`), then evaluates FP32 and quantized on the rest.
   */
  quantize(images: WorkerImage[], spec: PreprocessSpec, batchSize: number, calibSize: number, settings: QuantizeSettings,
           onProgress: (done: number, total: number, phase?: string) => void,
           o: { onAsmoEvent?: (e: AsmoLiveEvent) => void; resume?: RunResume; onCheckpoint?: (c: RunCheckpoint) => void; onNotice?: (m: string) => void } = {}): QuantizeHandle {
    const r = this.request<'quant-result'>({ kind: 'quantize', images, spec, batchSize, calibSize, settings, resume: o.resume } as Omit<Request, 'id'>,
      onProgress, [], { onAsmoEvent: o.onAsmoEvent, onCheckpoint: o.onCheckpoint, onNotice: o.onNotice });
    return {
      ...this.running(r, (m) => m.result),
      pause: (paused) => this.worker.postMessage({ kind: 'pause', id: 0, target: r.id, paused } satisfies Request),
    };
  }

  /** Evaluates the loaded model FP32 and quantized by `params` (no calibration) on all the images. */
  evaluateQuantized(images: WorkerImage[], spec: PreprocessSpec, batchSize: number, params: ViTQuantParams,
                    onProgress: (done: number, total: number, phase?: string) => void): { cancel(): void; done: Promise<QuantEvalResult> } {
    const r = this.request<'quant-eval-result'>({ kind: 'evaluate-quantized', images, spec, batchSize, params } as Omit<Request, 'id'>, onProgress);
    return this.running(r, (m) => m.result);
  }

  /** The loaded model quantized by a run's parameters as a whole ONNX file (built in the worker), with its sizes. */
  async exportModel(job: ExportJob): Promise<{ bytes: Uint8Array; summary: ExportSummary }> {
    const r = await this.request<'export-result'>({ kind: 'export', ...job } as Omit<Request, 'id'>).done;
    return { bytes: r.bytes, summary: r.summary };
  }

  /** Tests only: makes the worker's device go away, to exercise the device-lost path. */
  loseDevice(): void {
    this.worker.postMessage({ kind: 'debug-lose-device', id: 0 } satisfies Request);
  }

  /** Full statistics of one site from the last collection. */
  async siteStats(site: SiteId): Promise<SiteStats> {
    return (await this.request<'site-stats'>({ kind: 'site-stats', site } as Omit<Request, 'id'>).done).stats;
  }
}
