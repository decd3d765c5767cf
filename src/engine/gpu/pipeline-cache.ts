/**
 * Compute pipelines cached by kernel name + entry point + override values, never by tensor shapes:
 * shapes travel in each kernel's uniform `Params`, so one pipeline serves every batch and token count.
 * Layouts are explicit (from the wrapper's binding list) rather than 'auto', so an entry point that does
 * not touch some binding still accepts the same bind group as its siblings.
 */
import type { BindingSpec } from './kernel.ts';

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(readonly device: GPUDevice) {}

  get size(): number { return this.pipelines.size; }

  layout(kernel: string, bindings: readonly BindingSpec[]): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: kernel,
        entries: bindings.map((b, i) => ({
          binding: i,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b.kind === 'uniform' ? 'uniform' : b.kind === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      this.layouts.set(kernel, layout);
    }
    return layout;
  }

  get(kernel: string, code: string, bindings: readonly BindingSpec[], entryPoint: string,
      overrides: Record<string, number>): GPUComputePipeline {
    const names = Object.keys(overrides).sort();
    const key = `${kernel}|${entryPoint}|${names.map((n) => `${n}=${overrides[n]}`).join(',')}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(kernel);
      if (!module) this.modules.set(kernel, (module = this.device.createShaderModule({ label: kernel, code })));
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel, bindings)] }),
        compute: { module, entryPoint, constants: overrides },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }
}
