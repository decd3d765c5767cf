/**
 * The timing method shared by every runtime, in Node and in the page: one warm-up run (its output is
 * the one checked for correctness), then up to `runs` timed runs, cut short by a time budget because
 * software adapters can take tens of seconds per run.
 */
export interface MeasureOptions {
  runs: number;
  /** Stop timing once the timed runs together exceed this (at least one timed run always happens). */
  budgetMs: number;
}

export interface Measurement {
  /** Median of `timesMs`. */
  medianMs: number;
  timesMs: number[];
  /** First call, including pipeline/shader compilation; reported, never part of the median. */
  warmupMs: number;
  output: Float32Array;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function measure(run: () => Promise<Float32Array>, opts: MeasureOptions): Promise<Measurement> {
  let t = performance.now();
  const output = await run();
  const warmupMs = performance.now() - t;
  const timesMs: number[] = [];
  let total = 0;
  while (timesMs.length < Math.max(1, opts.runs) && (timesMs.length === 0 || total < opts.budgetMs)) {
    t = performance.now();
    await run();
    const dt = performance.now() - t;
    timesMs.push(dt);
    total += dt;
  }
  return { medianMs: median(timesMs), timesMs, warmupMs, output };
}
