/**
 * "Evaluate quantized" for a run read from the loaded export: the worker evaluates every loaded image with
 * the file's quantizers (no calibration), FP32 activations on the file's weights beside it; the run's row
 * gets both accuracies. Progress and cancel go through the quantization slice like a quantization's.
 */
import { asInfo, currentSpec, engineClient, workerImages } from './actions.ts';
import { patch, useStudio } from './store.ts';

let cancelRunning: (() => void) | null = null;

export async function evaluateFileRun(runId: number, batchSize = 8): Promise<void> {
  const client = engineClient(), spec = currentSpec(), s = useStudio.getState();
  const run = s.quantization.runs.find((r) => r.id === runId);
  if (!client || !spec || !run?.fromFile || s.quantization.running) return;
  const images = workerImages();
  if (!images.length) { patch('quantization', { error: { code: 'usage', message: 'There are no images to evaluate on; add some first.' } }); return; }
  const generation = s.quantization.generation;
  patch('quantization', { running: true, phase: 'fp32', done: 0, total: images.length, error: null });
  const job = client.evaluateQuantized(images, spec, batchSize, run.params, (done, total, phase) => patch('quantization', { done, total, phase: phase ?? '' }));
  cancelRunning = job.cancel;
  try {
    const r = await job.done;
    const q = useStudio.getState().quantization;
    if (q.generation !== generation) { patch('quantization', { running: false }); return; }
    const evalSet = JSON.stringify({ generation, file: true, evalImages: r.evalImages, spec });
    patch('quantization', {
      running: false,
      runs: q.runs.map((x) => (x.id !== runId ? x : {
        ...x, evalImages: r.evalImages, evalSet, fp32: r.fp32, quantized: r.quantized, skipped: r.skipped, predictions: r.predictions, spec,
        seconds: r.fp32Seconds + r.quantizedSeconds, finishedAt: new Date().toISOString(),
        timings: { ...x.timings, fp32EvalSeconds: r.fp32Seconds, quantizedEvalSeconds: r.quantizedSeconds, totalSeconds: r.fp32Seconds + r.quantizedSeconds },
        fromFile: { ...x.fromFile!, evaluated: true },
      })),
    });
  } catch (e) {
    patch('quantization', { running: false, error: useStudio.getState().quantization.generation === generation ? asInfo(e) : null });
  } finally {
    cancelRunning = null;
  }
}

export function cancelFileEvaluation(): void {
  cancelRunning?.();
}
