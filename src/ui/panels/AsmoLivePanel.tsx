/**
 * The module-wise optimisation as it runs (and after it ended, cancelled or not): the current module's
 * loss curve, top-1 so far after each block, the rounding shares, and the finished modules' curves.
 */
import { useMemo, useState } from 'react';
import { AsmoAccuracyChart } from '../charts/AsmoAccuracyChart.tsx';
import { AsmoLossChart } from '../charts/AsmoLossChart.tsx';
import { AsmoModuleGrid } from '../charts/AsmoModuleGrid.tsx';
import { AsmoRoundingChart, type RoundingBar } from '../charts/AsmoRoundingChart.tsx';
import { useStudio, type AsmoLive } from '../store.ts';

function statusLine(a: AsmoLive): string {
  const finished = `${a.modules.length} of ${a.total || '?'} module(s)`;
  if (a.status === 'done') return `finished: ${a.modules.length} module(s), ${a.iters} steps each`;
  if (a.status === 'cancelled') return `cancelled after ${finished}; what they computed stays below`;
  if (a.status === 'failed') return `stopped by an error after ${finished}`;
  if (!a.current) return a.phase || 'calibrating first';
  const last = a.points[a.points.length - 1];
  return `module ${a.current.index + 1} of ${a.current.total}: ${a.current.name}, step ${last ? Math.min(last.step, a.iters) : 0} of ${a.iters}`
    + (a.paused ? ' (paused)' : '') + (a.phase ? ` · ${a.phase}` : '');
}

export function AsmoLivePanel() {
  const a = useStudio((s) => s.asmo);
  const [log, setLog] = useState(true);
  const bars = useMemo((): RoundingBar[] => {
    const done = a.modules.map((m) => ({ name: m.name, share: m.rounding }));
    const live = a.status === 'running' && a.current && a.rounding && !a.modules.some((m) => m.name === a.current!.name);
    return live ? [...done, { name: a.current!.name, share: a.rounding!, live: true }] : done;
  }, [a.modules, a.current, a.rounding, a.status]);
  if (a.status === 'idle') return null;
  return (
    <div className="asmo-live" data-testid="asmo-live" data-status={a.status} data-paused={a.paused}>
      <h3>Module-wise optimisation: {a.label}</h3>
      <p className={a.status === 'failed' ? 'warn' : 'muted'} data-testid="asmo-status">{statusLine(a)}</p>
      <div className="row">
        <strong>{a.current ? a.current.name : 'no module yet'}</strong>
        <label className="toggle"><input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} data-testid="asmo-log" /> log scale</label>
      </div>
      <AsmoLossChart points={a.points} iters={a.iters} log={log} />
      <div className="columns">
        <div><h4>top-1 so far (held-out images, after each block)</h4><AsmoAccuracyChart points={a.accuracy} /></div>
        <div><h4>rounding: up vs changed from nearest</h4><AsmoRoundingChart bars={bars} /></div>
      </div>
      {a.modules.length > 0 && (
        <>
          <h4>finished modules (total and reconstruction loss; rec. error before → after on a fixed sample)</h4>
          <AsmoModuleGrid modules={a.modules} />
        </>
      )}
    </div>
  );
}
