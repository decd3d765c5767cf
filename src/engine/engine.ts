/**
 * The engine's small public API, the same in the page's worker, in Node (CLI, tests, benchmarks):
 * one GPU context, at most one loaded model, inference on batches of normalised pixels.
 */
import { UsageError } from './errors.ts';
import { acquireGpu, type AcquireOptions, type GpuContext } from './gpu/device.ts';
import { ViTRunner } from './model/vit-runner.ts';
import type { ExportQuantization } from './onnx/import-export.ts';
import { importVitOrExport } from './onnx/import-vit.ts';
import type { ViTModel } from './vit/description.ts';
import { summarize, type ModelSummary } from './vit/summary.ts';

export class Engine {
  private current: ViTRunner | null = null;
  private quant: ExportQuantization | null = null;

  private constructor(readonly gpu: GpuContext) {}

  static async create(options: AcquireOptions = {}): Promise<Engine> {
    return new Engine(await acquireGpu(options));
  }

  get adapterInfo(): string { return this.gpu.adapterInfo; }

  /**
   * Imports and uploads a model; the previous one is kept if the new one is rejected. An adfq-studio export
   * loads as its fake-quantized weights (engine.model, run in FP32 by `predict`) plus its quantizers
   * (engine.quantization; QuantViTRunner(engine.gpu, engine.model, quantization.params) runs it quantized).
   */
  loadModel(bytes: Uint8Array, onWarning?: (m: string) => void): ModelSummary {
    const { model, quant } = importVitOrExport(bytes, { onWarning });
    return this.useModel(model, quant);
  }

  useModel(model: ViTModel, quant: ExportQuantization | null = null): ModelSummary {
    const runner = new ViTRunner(this.gpu, model);
    this.current?.dispose();
    this.current = runner;
    this.quant = quant;
    return summarize(model);
  }

  /** The quantizers of the loaded model when it is an adfq-studio export, else null. */
  get quantization(): ExportQuantization | null {
    return this.current ? this.quant : null;
  }

  get model(): ViTModel {
    return this.requireRunner().model;
  }

  /** The loaded model's GPU runner (for statistics and, later, quantization). */
  get runner(): ViTRunner {
    return this.requireRunner();
  }

  private requireRunner(): ViTRunner {
    if (!this.current) throw new UsageError('No model is loaded.');
    return this.current;
  }

  /** pixels [batch, C, S, S] → logits [batch, classes]. */
  predict = (pixels: Float32Array, batch: number): Promise<Float32Array> => {
    return this.requireRunner().forward(pixels, batch);
  };

  dispose(): void {
    this.current?.dispose();
    this.current = null;
    this.gpu.dispose();
  }
}
