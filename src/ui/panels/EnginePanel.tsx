import { restartGpu } from '../actions.ts';
import { useStudio } from '../store.ts';

export function EnginePanel() {
  const engine = useStudio((s) => s.engine);
  if (engine.status === 'lost') {
    return (
      <div className="error" role="alert" data-testid="engine-error">
        The GPU device was lost: {engine.error?.message} The model and results on this page are kept.
        {' '}<button onClick={() => void restartGpu()} data-testid="restart-gpu">Restart GPU</button>
      </div>
    );
  }
  if (engine.status === 'recovering') {
    return (
      <div className="warn" role="status" data-testid="engine-recovering">
        The GPU device was lost ({engine.error?.message}); restarting it. Running work resumes from its last checkpoint; finished results are kept.
      </div>
    );
  }
  if (engine.status === 'failed') {
    return <div className="error" role="alert" data-testid="engine-error">{engine.error?.message}</div>;
  }
  return (
    <div className="engine" data-testid="engine-status">
      {engine.status === 'starting' ? 'Starting the WebGPU engine…' : `GPU: ${engine.adapter}`}
      {engine.isSoftware && <span className="warn"> (a software adapter: expect seconds per image)</span>}
      {engine.recoveries > 0 && (
        <span className="muted" data-testid="engine-recovered">
          {' '}Recovered from {engine.recoveries === 1 ? 'a GPU device loss' : `${engine.recoveries} GPU device losses`} (last at {new Date(engine.lastRecovery!).toLocaleTimeString()}).
        </span>
      )}
    </div>
  );
}
