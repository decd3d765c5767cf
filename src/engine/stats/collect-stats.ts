/**
 * Activation statistics of every block over a set of images, on the GPU: pass 1 runs the model and
 * records ranges and threshold counts at every site, pass 2 runs it again and bins each site's values
 * over the range pass 1 found. Only small summaries are read back.
 */
import { BadImageError, CancelledError } from '../errors.ts';
import { imageBatches, type ImageSource, type SkippedImage } from '../eval/image-batches.ts';
import type { PreprocessSpec } from '../image/transform.ts';
import type { ViTRunner } from '../model/vit-runner.ts';
import { SiteAccumulator } from './site-accumulator.ts';
import { SITE_KINDS, type SiteId, type SiteOverview, type SiteStats, type StatsSettings, type StatsSummary } from './types.ts';

export interface CollectOptions {
  runner: ViTRunner;
  sources: ImageSource[];
  spec: PreprocessSpec;
  batchSize: number;
  settings: StatsSettings;
  onProgress?: (done: number, total: number, phase: 'ranges' | 'histograms') => void;
  signal?: AbortSignal;
}

export interface StatsCollection {
  summary: StatsSummary;
  skipped: SkippedImage[];
  site(id: SiteId): SiteStats | undefined;
}

const key = (s: SiteId) => `${s.block}:${s.kind}`;

export async function collectStats(o: CollectOptions): Promise<StatsCollection> {
  const { runner } = o, c = runner.model.config;
  const sites = new Map<string, SiteAccumulator>();
  for (let block = 0; block < c.depth; block++) for (const kind of SITE_KINDS) {
    sites.set(key({ block, kind }), new SiteAccumulator(runner.ctx, { block, kind }, c.tokens, o.settings));
  }
  const skipped: SkippedImage[] = [];
  try {
    let images = 0;
    for await (const b of imageBatches(o.sources, o.spec, o.batchSize, skipped, o.signal)) {
      if (b.kept.length) await runner.forward(b.pixels, b.kept.length, (site, t, enc) => sites.get(key(site))!.recordRanges(enc, t));
      images += b.kept.length;
      o.onProgress?.(b.consumed, o.sources.length, 'ranges');
    }
    if (images === 0) throw new BadImageError(`None of the ${o.sources.length} images could be decoded; there is nothing to record.`);
    for (const s of sites.values()) await s.readRange();
    for await (const b of imageBatches(o.sources, o.spec, o.batchSize, [], o.signal)) {
      if (b.kept.length) await runner.forward(b.pixels, b.kept.length, (site, t, enc) => sites.get(key(site))!.recordHistogram(enc, t));
      o.onProgress?.(b.consumed, o.sources.length, 'histograms');
    }
    if (o.signal?.aborted) throw new CancelledError('Statistics cancelled.');
    const full = new Map<string, SiteStats>();
    for (const [k, s] of sites) full.set(k, await s.read());
    const overview = [...full.values()].map(({ block, kind, count, min, max, nans, above, tokenMin, tokenMax }): SiteOverview =>
      ({ block, kind, count, min, max, nans, above, tokenMin, tokenMax }));
    return {
      summary: { settings: o.settings, images, depth: c.depth, tokens: c.tokens, sites: overview },
      skipped,
      site: (id) => full.get(key(id)),
    };
  } finally {
    for (const s of sites.values()) s.dispose();
    runner.ctx.pool.recycle();
  }
}
