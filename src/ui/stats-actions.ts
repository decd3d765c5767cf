/** Recording activation statistics and fetching one site's full statistics for the explorer. */
import { DEFAULT_STATS_SETTINGS, type SiteId } from '../engine/stats/types.ts';
import { asInfo, currentSpec, engineClient, workerImages } from './actions.ts';
import { withRecovery } from './recovery.ts';
import { patch, useStudio } from './store.ts';

let cancelRunning: (() => void) | null = null;

export async function recordStatistics(batchSize = 8): Promise<void> {
  const client = engineClient();
  const spec = currentSpec();
  const s = useStudio.getState();
  if (!client || !spec || s.statistics.running || !s.data.images.length) return;
  const images = workerImages();
  patch('statistics', { running: true, phase: 'starting', done: 0, total: images.length, error: null });
  try {
    // Statistics live in the worker (the explorer asks it for each site), so after a device loss they are recorded again from the start.
    const summary = await withRecovery('the statistics recording', () => {
      const run = engineClient()!.collectStats(images, spec, batchSize, DEFAULT_STATS_SETTINGS,
        (done, total, phase) => patch('statistics', { done, total, phase: phase ?? '' }));
      cancelRunning = run.cancel;
      return run.done;
    });
    patch('statistics', { summary, running: false, siteStats: null });
    const site = useStudio.getState().statistics.site;
    await selectSite({ block: Math.min(site.block, summary.depth - 1), kind: site.kind });
  } catch (e) {
    patch('statistics', { running: false, error: asInfo(e) });
  } finally {
    cancelRunning = null;
  }
}

export function cancelStatistics(): void {
  cancelRunning?.();
}

/** Picks a block and tensor; its full statistics come from the worker (the last collection). */
export async function selectSite(site: SiteId): Promise<void> {
  patch('statistics', { site, siteError: null });
  const client = engineClient();
  if (!client || !useStudio.getState().statistics.summary) return;
  try {
    const stats = await client.siteStats(site);
    // A slower earlier request must not overwrite a later choice.
    const now = useStudio.getState().statistics.site;
    if (now.block === site.block && now.kind === site.kind) patch('statistics', { siteStats: stats });
  } catch (e) {
    const info = asInfo(e);
    // The summary survives a reload or a GPU restart; the per-site detail lived in the old worker.
    patch('statistics', { siteError: info.code === 'no-stats' || info.code === 'no-engine'
      ? { code: info.code, message: 'These statistics were recorded before a reload or a GPU restart: their summary is kept, their per-site detail is not. Record statistics again to explore a site.' }
      : info });
  }
}
