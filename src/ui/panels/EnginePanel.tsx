import { useStudio } from '../store.ts';

export function EnginePanel() {
  const engine = useStudio((s) => s.engine);
  if (engine.status === 'failed') {
    return <div className="error" role="alert" data-testid="engine-error">{engine.error?.message}</div>;
  }
  return (
    <div className="engine" data-testid="engine-status">
      {engine.status === 'starting' ? 'Starting the WebGPU engine…' : `GPU: ${engine.adapter}`}
      {engine.isSoftware && <span className="warn"> (a software adapter: expect seconds per image)</span>}
    </div>
  );
}
