/**
 * What the explorer draws over a site's histogram for the selected quantization run: the site's
 * activation quantizer, its output levels inside the histogram's range, PPOQ's ±τ, and the run's error
 * report for the site. Plain computation from the run's params (engine/quant/levels.ts).
 */
import { quantizerLevels } from '../../engine/quant/levels.ts';
import type { ActQuant } from '../../engine/quant/params.ts';
import type { SiteQuantReport } from '../../engine/quant/quantize.ts';
import { siteQuantizer } from '../../engine/quant/sites.ts';
import type { SiteId } from '../../engine/stats/types.ts';
import type { QuantRun } from '../store.ts';

export interface LevelOverlay {
  quantizer: ActQuant;
  bits: number;
  /** Distinct output levels of the quantizer: one token's grid for PPOQ, or every token's. */
  count: number;
  /** The levels inside the histogram's range (thinned to one per ~pixel when there are very many). */
  drawn: number[];
  /** PPOQ: the token whose grid is drawn, or 'all'; null for other quantizers. */
  token: number | 'all' | null;
  report: SiteQuantReport | null;
}

const MAX_DRAWN = 1500;

export function levelOverlay(run: QuantRun, site: SiteId, lo: number, hi: number, token: number | 'all'): LevelOverlay | null {
  const q = siteQuantizer(run.params, site);
  if (!q) return null;
  const bits = run.params.bitsA;
  const tok = q.kind !== 'ppoq' ? null : token === 'all' ? 'all' : Math.min(token, q.delta.length - 1);
  const levels = [...new Set(quantizerLevels(q, bits, typeof tok === 'number' ? tok : undefined).flat())].sort((a, b) => a - b);
  let drawn = levels.filter((v) => v >= lo && v <= hi);
  if (drawn.length > MAX_DRAWN) {
    const step = (hi - lo) / MAX_DRAWN, seen = new Set<number>();
    drawn = drawn.filter((v) => { const k = Math.round((v - lo) / step); return seen.has(k) ? false : (seen.add(k), true); });
  }
  const report = run.sites.find((r) => r.site.block === site.block && r.site.kind === site.kind) ?? null;
  return { quantizer: q, bits, count: levels.length, drawn, token: tok, report };
}
