/**
 * The GPU accumulators of one site. Pass 1 records ranges (whole tensor, per token, per channel, per
 * token×channel) and threshold counts; pass 2 a histogram over the range pass 1 found. Everything is
 * read back as small arrays at the end; the accumulators are then released.
 */
import type { GpuContext } from '../gpu/device.ts';
import { readTensor, releaseTensor, type GpuTensor } from '../gpu/tensor.ts';
import {
  axisMinMaxInit, channelMinMax, countAbove, countAboveInit, histogram, histogramInit, minMax, minMaxInit,
  readCountAbove, readHistogram, readMinMax, tokenMinMax,
  type AxisMinMaxAcc, type CountAboveAcc, type HistogramAcc, type MinMaxAcc, type MinMaxResult,
} from '../kernels/index.ts';
import { percentilesFromHistogram } from './histogram-percentiles.ts';
import type { SiteId, SiteStats, StatsSettings } from './types.ts';

/** Rows and columns of a site's tensor as statistics see it: attention [B,H,N,N] is rows B·H·N over N keys. */
function layout(t: GpuTensor, tokens: number): { channels: number; rows: number; groups: number } {
  const channels = t.shape[t.shape.length - 1];
  const rows = t.shape.reduce((a, b) => a * b, 1) / channels;
  return { channels, rows, groups: rows / tokens };
}

const view = (t: GpuTensor, shape: number[]): GpuTensor => ({ buffer: t.buffer, shape });

export class SiteAccumulator {
  private range: MinMaxAcc | null = null;
  private token: AxisMinMaxAcc | null = null;
  private channel: AxisMinMaxAcc | null = null;
  private tokenChannel: AxisMinMaxAcc | null = null;
  private above: CountAboveAcc | null = null;
  private hist: HistogramAcc | null = null;
  private channels = 0;
  private count = 0;
  private found: MinMaxResult | null = null;

  constructor(private readonly ctx: GpuContext, readonly site: SiteId, private readonly tokens: number,
              private readonly settings: StatsSettings) {}

  /** Pass 1: ranges and threshold counts of one batch's tensor. */
  recordRanges(enc: GPUCommandEncoder, t: GpuTensor): void {
    const ctx = this.ctx, { channels, rows, groups } = layout(t, this.tokens);
    if (!this.range) {
      // All or nothing: a failure half-way releases what was allocated, and the fields stay null.
      const acc = ctx.pool.guard(() => ({
        range: minMaxInit(ctx, enc), token: axisMinMaxInit(ctx, enc, this.tokens), channel: axisMinMaxInit(ctx, enc, channels),
        tokenChannel: axisMinMaxInit(ctx, enc, this.tokens * channels), above: countAboveInit(ctx, enc, this.settings.thresholds),
      }));
      this.channels = channels;
      ({ range: this.range, token: this.token, channel: this.channel, tokenChannel: this.tokenChannel, above: this.above } = acc);
    }
    this.count += rows * channels;
    minMax(ctx, enc, t, this.range);
    tokenMinMax(ctx, enc, view(t, [rows, channels]), this.tokens, this.token!);
    channelMinMax(ctx, enc, view(t, [rows, channels]), this.channel!);
    channelMinMax(ctx, enc, view(t, [groups, this.tokens * channels]), this.tokenChannel!);
    countAbove(ctx, enc, t, this.above!);
  }

  /** Between the passes: the range decides the histogram's bins. */
  async readRange(): Promise<MinMaxResult> {
    this.found = await readMinMax(this.ctx, this.range!);
    return this.found;
  }

  /** Pass 2: the histogram over [min, max] (widened when the tensor is constant). */
  recordHistogram(enc: GPUCommandEncoder, t: GpuTensor): void {
    const f = this.found!;
    if (!Number.isFinite(f.min) || !Number.isFinite(f.max)) return;
    if (!this.hist) {
      const pad = f.max > f.min ? 0 : Math.max(Math.abs(f.min), 1) * 1e-6;
      this.hist = this.ctx.pool.guard(() => histogramInit(this.ctx, enc, { bins: this.settings.bins, lo: f.min - pad, hi: f.max + pad }));
    }
    histogram(this.ctx, enc, t, this.hist);
  }

  async read(): Promise<SiteStats> {
    const ctx = this.ctx, f = this.found ?? await this.readRange();
    const [tokMin, tokMax, chMin, chMax, tcMin, tcMax] = await Promise.all(
      [this.token!.min, this.token!.max, this.channel!.min, this.channel!.max, this.tokenChannel!.min, this.tokenChannel!.max]
        .map((t) => readTensor(ctx, t)));
    const h = this.hist ? await readHistogram(ctx, this.hist) : null;
    const histogramOut = h
      ? { lo: this.hist!.lo, hi: this.hist!.hi, counts: Array.from(h.counts), under: h.under, over: h.over }
      : { lo: 0, hi: 0, counts: [], under: 0, over: 0 };
    return {
      ...this.site, count: this.count, min: f.min, max: f.max, nans: f.nans,
      above: await readCountAbove(ctx, this.above!),
      tokenMin: Array.from(tokMin), tokenMax: Array.from(tokMax), tokens: this.tokens, channels: this.channels,
      histogram: histogramOut, percentiles: percentilesFromHistogram(histogramOut, this.settings.percentiles),
      channelMin: Array.from(chMin), channelMax: Array.from(chMax),
      tokenChannelAbsMax: Array.from(tcMin, (lo, i) => Math.max(Math.abs(lo), Math.abs(tcMax[i]))),
    };
  }

  dispose(): void {
    const acc = [this.range, this.token?.min, this.token?.max, this.channel?.min, this.channel?.max,
      this.tokenChannel?.min, this.tokenChannel?.max, this.above?.counts, this.hist?.counts];
    for (const t of acc) if (t) releaseTensor(this.ctx, t);
    this.range = this.token = this.channel = this.tokenChannel = this.above = this.hist = null;
  }
}
